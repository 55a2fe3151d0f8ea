"""Passkeys (W3C WebAuthn Level 2) through the maintained ``webauthn`` package, imported only
when a passkey is used (it brings CBOR and ASN.1 parsers a password sign-in never needs).

- The relying party is the deployment's issuer: its host name is the RP ID and its origin the
  only origin accepted (locally ``http://localhost:<port>``: browsers refuse IP addresses as
  RP IDs).
- Attestation ``none`` is asked for and accepted: the API does not restrict which makes of
  authenticator may be used, so it has no use for the maker's certificate chain, and asking
  for none keeps the authenticator's model private.
- User verification (a PIN or biometric on the authenticator) is required, at registration
  and at every sign-in: a passkey alone is then two factors (``hwk``).
- Counters that go backwards (a cloned authenticator) are refused; authenticators that keep no
  counter (always 0) are accepted, as the specification allows.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from umapi.digests import b64url, unb64url
from umapi.text import parse_json

RP_NAME = "User Management API"
TIMEOUT_MS = 300_000


class RelyingParty(NamedTuple):
    id: str
    origin: str


class PasskeyError(Exception):
    """The credential is malformed, for another challenge, origin or RP, or unverified."""


class NewPasskey(NamedTuple):
    credential_id: str
    public_key: str
    sign_count: int
    transports: tuple[str, ...]


def relying_party(issuer: str) -> RelyingParty:
    parts = urlsplit(issuer)
    return RelyingParty(parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}")


def challenge_of(credential: dict[str, Any]) -> str | None:
    """The challenge the browser signed (from ``clientDataJSON``), to find what it answers."""
    try:
        client_data = parse_json(unb64url(credential["response"]["clientDataJSON"]).decode())
        challenge = client_data["challenge"]
    except (KeyError, TypeError, ValueError, UnicodeDecodeError):
        return None
    return challenge if isinstance(challenge, str) and 0 < len(challenge) <= 200 else None


def registration_options(
    rp: RelyingParty, user_id: str, email: str, name: str, existing: list[str]
) -> tuple[dict[str, Any], str]:
    """Creation options as JSON (``PublicKeyCredentialCreationOptionsJSON``) and their challenge."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AttestationConveyancePreference,
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_id=user_id.encode(),
        user_name=email,
        user_display_name=name,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=unb64url(c)) for c in existing],
    )
    return json.loads(options_to_json(options)), b64url(options.challenge)


def verify_registration(rp: RelyingParty, credential: dict[str, Any], challenge: str) -> NewPasskey:
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=unb64url(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError, AttributeError, IndexError) as problem:
        raise PasskeyError(str(problem) or "The passkey could not be verified.") from problem
    transports = credential.get("response", {}).get("transports") or []
    return NewPasskey(
        b64url(verified.credential_id),
        b64url(verified.credential_public_key),
        verified.sign_count,
        tuple(str(t) for t in transports if isinstance(t, str))[:8],
    )


def authentication_options(rp: RelyingParty, credential_ids: list[str]) -> tuple[dict[str, Any], str]:
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=unb64url(c)) for c in credential_ids],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return json.loads(options_to_json(options)), b64url(options.challenge)


def verify_assertion(
    rp: RelyingParty, credential: dict[str, Any], challenge: str, public_key: str, sign_count: int
) -> int:
    """The authenticator's new counter, or ``PasskeyError`` (a counter that did not move on
    included: the library refuses it, as it refuses a wrong signature)."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=unb64url(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=unb64url(public_key),
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError, AttributeError, IndexError) as problem:
        raise PasskeyError(str(problem) or "The passkey could not be verified.") from problem
    return verified.new_sign_count
