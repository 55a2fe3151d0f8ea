"""Digests and base64url, with the standard library only (cheap to import everywhere)."""

from __future__ import annotations

import base64
import hashlib


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Raises ``ValueError`` on anything that is not unpadded base64url."""
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sha256_hex(text: str | bytes) -> str:
    """How tokens, codes and secrets of 256 random bits are stored: their SHA-256, in hex."""
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def sha256_b64url(text: str) -> str:
    """SHA-256 in unpadded base64url (PKCE S256, RFC 7638 thumbprints)."""
    return b64url(hashlib.sha256(text.encode()).digest())
