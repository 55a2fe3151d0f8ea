"""Access tokens: RS256 JWTs per RFC 9068 (``typ: at+jwt``), issued and verified here only; and
OpenID Connect ID tokens (``typ: JWT``, audience the client), which are only issued: an ID token
is never accepted as an access token (its ``typ`` and ``aud`` differ)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import jwt
from jwt.algorithms import RSAAlgorithm

from umapi.auth.logout import IdTokenHint
from umapi.auth.signing import PublicKeyCache, SigningKey
from umapi.digests import b64url
from umapi.errors import InvalidTokenError
from umapi.ids import ulid

ALGORITHM = "RS256"
TOKEN_TYPE = "at+jwt"  # noqa: S105 - a JOSE media type, not a secret
CLOCK_SKEW_SECONDS = 30


class AccessTokenClaims(NamedTuple):
    issuer: str
    audience: str
    subject: str
    client_id: str
    org_id: str
    scope: str
    issued_at: int
    expires_at: int
    token_id: str
    session_version: int = 0  # user tokens: the user's session version at sign-in (revocation)
    session_id: str | None = None  # user tokens: the sign-in's refresh family (``sid``)
    amr: tuple[str, ...] = ()  # user tokens: how the user signed in (RFC 8176)


def issue_access_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    subject: str,
    client_id: str,
    org_id: str,
    scope: str,
    ttl_seconds: int,
    session_version: int | None = None,
    session_id: str | None = None,
    idp: str | None = None,
    auth_time: int | None = None,
    amr: tuple[str, ...] = (),
) -> tuple[str, AccessTokenClaims]:
    now = int(time.time())
    claims = AccessTokenClaims(
        issuer=issuer,
        audience=audience,
        subject=subject,
        client_id=client_id,
        org_id=org_id,
        scope=scope,
        issued_at=now,
        expires_at=now + ttl_seconds,
        token_id=f"at_{ulid()}",
        session_version=session_version or 0,
        session_id=session_id,
    )
    payload = {
        "iss": claims.issuer,
        "sub": claims.subject,
        "aud": claims.audience,
        "exp": claims.expires_at,
        "iat": claims.issued_at,
        "jti": claims.token_id,
        "client_id": claims.client_id,
        "org_id": claims.org_id,
        "scope": claims.scope,
    }
    if session_version is not None:
        payload["session_version"] = session_version
    if session_id is not None:
        payload["sid"] = session_id
    if idp is not None:
        payload["idp"] = idp  # the SSO connection the user signed in through
    if auth_time:  # user tokens: when and how the user signed in (RFC 9068 §2.2.1, RFC 8176)
        payload["auth_time"] = auth_time
    if amr:
        payload["amr"] = list(amr)
    token = jwt.encode(payload, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": TOKEN_TYPE})
    return token, claims


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: the left half of the access token's SHA-256, base64url (RS256)."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest()[:16])


def issue_id_token(
    key: SigningKey,
    *,
    issuer: str,
    client_id: str,
    subject: str,
    ttl_seconds: int,
    auth_time: int,
    amr: tuple[str, ...],
    claims: Mapping[str, Any],
    access_token: str,
    session_id: str,
    nonce: str | None = None,
) -> str:
    """An ID token (OIDC Core §2) for ``client_id``: who signed in, when and how, with the
    ``claims`` its scopes release, and the hash of the access token it came with."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "azp": client_id,
        "exp": now + ttl_seconds,
        "iat": now,
        "auth_time": auth_time,
        **({"amr": list(amr)} if amr else {}),
        "at_hash": at_hash(access_token),
        "sid": session_id,  # the sign-in's refresh family: what RP-initiated logout ends
        **claims,
    }
    if nonce is not None:
        payload["nonce"] = nonce
    return jwt.encode(payload, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "JWT"})


def verify_id_token_hint(token: str, keys: PublicKeyCache, issuer: str) -> IdTokenHint:
    """An ID token of ours, of any age, as RP-initiated logout's ``id_token_hint``: signature by
    a key of ours, RS256, ``typ: JWT``, issuer; its user, client and session. ``InvalidTokenError``
    otherwise."""
    try:
        header = jwt.get_unverified_header(token)
        jwk = keys.get(str(header.get("kid", "")))
        if header.get("alg") != ALGORITHM or header.get("typ") != "JWT" or jwk is None:
            raise InvalidTokenError("Not an ID token of this server.")
        claims = jwt.decode(
            token,
            RSAAlgorithm.from_jwk(jwk),  # type: ignore[arg-type]
            algorithms=[ALGORITHM],
            issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"verify_aud": False, "verify_exp": False, "require": ["iss", "sub", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError("Not an ID token of this server.") from exc
    audience, subject, sid = claims["aud"], claims["sub"], claims.get("sid")
    if isinstance(audience, list) and len(audience) == 1:
        audience = audience[0]
    if not isinstance(audience, str) or not isinstance(subject, str):
        raise InvalidTokenError("Not an ID token of this server.")
    return IdTokenHint(subject, audience, sid if isinstance(sid, str) else None)


def verify_access_token(token: str, keys: PublicKeyCache, *, issuer: str, audience: str) -> AccessTokenClaims:
    """Checks signature, algorithm, ``typ``, ``kid``, issuer, audience and lifetime; raises ``InvalidTokenError``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidTokenError("The access token is malformed.") from exc
    if header.get("alg") != ALGORITHM:
        raise InvalidTokenError("The access token is not signed with RS256.")
    if str(header.get("typ", "")).lower() not in (TOKEN_TYPE, f"application/{TOKEN_TYPE}"):
        raise InvalidTokenError("The token is not an access token.")
    jwk = keys.get(str(header.get("kid", "")))
    if jwk is None:
        raise InvalidTokenError("The access token was signed with an unknown key.")
    try:
        payload = jwt.decode(
            token,
            RSAAlgorithm.from_jwk(jwk),  # type: ignore[arg-type]
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "org_id", "scope"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidTokenError("The access token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidTokenError("The access token is not valid.") from exc
    return AccessTokenClaims(
        issuer=payload["iss"],
        audience=audience,
        subject=str(payload["sub"]),
        client_id=str(payload["client_id"]),
        org_id=str(payload["org_id"]),
        scope=str(payload["scope"]),
        issued_at=int(payload["iat"]),
        expires_at=int(payload["exp"]),
        token_id=str(payload["jti"]),
        session_version=_whole_number(payload.get("session_version", 0)),
        session_id=str(payload["sid"]) if "sid" in payload else None,
        amr=_methods(payload.get("amr")),
    )


def _methods(value: object) -> tuple[str, ...]:
    """``amr`` as signed: a list of short method names (anything else counts as none)."""
    if not isinstance(value, list) or len(value) > 10:
        return ()
    return tuple(str(method)[:32] for method in value if isinstance(method, str))


def _whole_number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidTokenError("The access token is not valid.")
    return value
