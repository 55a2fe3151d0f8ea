"""Checking an identity provider's ID token (OpenID Connect Core §3.1.3.7), for the federated
sign-in's callback (docs/api.md §12). Imported only when a federated sign-in comes back, so
the sign-in function starts without PyJWT.

- the signature, RS256 only, by a key of the provider's JWKS: fetched once per container and
  key set, and read again once when a token names a key id the cached set lacks (a provider
  rotated its keys), at most once every 10 seconds;
- ``iss`` is the connection's issuer, ``aud`` holds the connection's client id, and ``azp``,
  when present (it must be, with several audiences), is that client id;
- ``exp`` and ``iat`` with 60 seconds of leeway; ``nonce`` is the one this sign-in sent;
- ``sub`` is present.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

from umapi.sso.entities import SsoConnection
from umapi.sso.provider import IdTokenError, ProviderError, fetch_json

LEEWAY_SECONDS = 60
REREAD_SECONDS = 10  # at most one re-read per provider in this long, whatever tokens arrive


class KeySets:
    """Providers' public keys, per container: ``jwks_uri`` -> (read at, kid -> JWK)."""

    def __init__(self, allow_loopback: bool) -> None:
        self._allow_loopback = allow_loopback
        self._sets: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
        self.fetches = 0  # how many times a key set was read (make bench)

    def key(self, jwks_uri: str, kid: str) -> dict[str, Any] | None:
        cached = self._sets.get(jwks_uri)
        if cached is not None and (kid in cached[1] or time.monotonic() - cached[0] < REREAD_SECONDS):
            return cached[1].get(kid)
        keys = self._read(jwks_uri)
        return keys.get(kid)

    def _read(self, jwks_uri: str) -> dict[str, dict[str, Any]]:
        try:
            document = fetch_json(jwks_uri, allow_loopback=self._allow_loopback)
        except ProviderError as exc:
            raise IdTokenError(f"the provider's keys could not be read: {exc}") from exc
        self.fetches += 1
        raw = document.get("keys") if isinstance(document, dict) else None
        keys = {
            str(key["kid"]): key
            for key in (raw if isinstance(raw, list) else [])
            if isinstance(key, dict) and key.get("kty") == "RSA" and "kid" in key
        }
        self._sets[jwks_uri] = (time.monotonic(), keys)
        return keys


def verify(id_token: str, connection: SsoConnection, nonce: str, key_sets: KeySets) -> dict[str, Any]:
    """The ID token's claims, checked; ``IdTokenError`` otherwise."""
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError as exc:
        raise IdTokenError("the ID token is malformed") from exc
    if header.get("alg") != "RS256":
        raise IdTokenError("the ID token is not signed with RS256")
    jwk = key_sets.key(connection.jwks_uri, str(header.get("kid", "")))
    if jwk is None:
        raise IdTokenError("the ID token is signed with a key the provider does not publish")
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            RSAAlgorithm.from_jwk(jwk),  # type: ignore[arg-type]
            algorithms=["RS256"],
            audience=connection.client_id,
            issuer=connection.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise IdTokenError("the ID token has expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise IdTokenError("the ID token was issued to another client (aud)") from exc
    except jwt.InvalidIssuerError as exc:
        raise IdTokenError("the ID token was issued by another provider (iss)") from exc
    except jwt.InvalidSignatureError as exc:
        raise IdTokenError("the ID token's signature does not verify") from exc
    except jwt.PyJWTError as exc:
        raise IdTokenError(f"the ID token is not valid ({exc.__class__.__name__})") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != connection.client_id:
        raise IdTokenError("the ID token was issued to another client (azp)")
    if claims.get("nonce") != nonce:
        raise IdTokenError("the ID token's nonce is not this sign-in's")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise IdTokenError("the ID token names no subject")
    return claims
