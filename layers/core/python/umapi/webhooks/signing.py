"""Webhook secrets and signatures (docs/api.md §7).

Two signatures go with every delivery:

- ``X-Webhook-Signature: sha256=<hex>``: exactly one value, HMAC-SHA256 of the raw body keyed
  with the newest secret string exactly as shown (``whsec_…``, UTF-8), so a receiver that
  compares the header (seed 003's example) keeps working through a rotation;
- Standard Webhooks: ``webhook-id`` (the event id, the same
  on every retry), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature: v1,<base64>``,
  HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed with the base64-decoded part after ``whsec_``;
  during a rotation's 24 hours it carries one signature per live secret, space-separated, as
  that standard defines.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    """A new secret: ``whsec_`` and 32 random bytes in base64, as Standard Webhooks libraries expect."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_headers(body: bytes, event_id: str, timestamp: int, live_secrets: list[str]) -> dict[str, str]:
    seed = "sha256=" + hmac.new(live_secrets[0].encode(), body, hashlib.sha256).hexdigest()
    signed = f"{event_id}.{timestamp}.".encode() + body
    standard = " ".join(
        "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
        for secret in live_secrets
    )
    return {
        "X-Webhook-Signature": seed,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard,
    }


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))
