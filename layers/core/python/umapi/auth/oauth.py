"""The token endpoint (RFC 6749 §3.2, §4.4, §5): parsing, client authentication, grants.

Order of checks: a malformed request (``invalid_request``), an unknown grant
(``unsupported_grant_type``), client authentication (``invalid_client``, 401), the client's
rate limit (429), whether the client may use the grant (``unauthorized_client``), then the
grant's own rules (``invalid_scope``, ...).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from umapi.auth.permissions import format_scope, parse_scope
from umapi.auth.ratelimit import RateLimiter
from umapi.auth.signing import SigningKeyCache
from umapi.auth.tokens import issue_access_token
from umapi.clients.models import Client
from umapi.clients.repository import ClientRepository
from umapi.clients.service import authenticate_client
from umapi.errors import OAuthError

SUPPORTED_GRANTS = ("client_credentials",)
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")  # RFC 6749 §3.3 scope-token


def parse_parameters(body: str | None, media_type: str) -> dict[str, str]:
    """Form (RFC 6749) or JSON parameters; a repeated or non-string parameter is ``invalid_request``."""
    if not body:
        return {}
    if media_type == "application/json":
        parsed = json.loads(body)
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise OAuthError("invalid_request", "The JSON body must be an object of string parameters.")
        return {str(k): v for k, v in parsed.items()}
    values = parse_qs(body, keep_blank_values=True)
    repeated = sorted(name for name, given in values.items() if len(given) > 1)
    if repeated:
        raise OAuthError("invalid_request", f"Parameters must not repeat: {', '.join(repeated)}.")
    return {name: given[0] for name, given in values.items()}


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``client_id, client_secret`` from ``Authorization: Basic`` (each form-url-encoded, RFC 6749 §2.3.1)."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "The Basic credentials are not valid base64.") from exc
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise OAuthError("invalid_client", "The Basic credentials must be client_id:client_secret.")
    return unquote_plus(client_id), unquote_plus(secret)


class TokenService:
    def __init__(
        self,
        clients: ClientRepository,
        signing_keys: SigningKeyCache,
        limiter: RateLimiter,
        default_rate_limit: int,
        access_token_ttl: int,
    ) -> None:
        self._clients = clients
        self._signing_keys = signing_keys
        self._limiter = limiter
        self._default_rate_limit = default_rate_limit
        self._ttl = access_token_ttl

    def token(
        self,
        params: Mapping[str, str],
        authorization: str | None,
        issuer: str,
        response_headers: dict[str, str],
    ) -> dict[str, Any]:
        grant_type = params.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required.")
        if grant_type not in SUPPORTED_GRANTS:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type} is not supported.")
        client = self._authenticate_client(params, authorization)
        self._limiter.admit(client.id, client.rate_limit_per_minute or self._default_rate_limit, response_headers)
        if grant_type not in client.grant_types or client.public:
            raise OAuthError("unauthorized_client", f"This client may not use the {grant_type} grant.")
        return self._client_credentials(client, params, issuer)

    def _authenticate_client(self, params: Mapping[str, str], authorization: str | None) -> Client:
        basic = basic_credentials(authorization)
        if basic is not None and "client_secret" in params:
            raise OAuthError("invalid_request", "Use one client authentication method, not Basic and the body both.")
        secret: str | None
        if basic is not None:
            if params.get("client_id", basic[0]) != basic[0]:
                raise OAuthError("invalid_request", "client_id differs from the Basic credentials.")
            client_id, secret = basic
        else:
            client_id, secret = params.get("client_id", ""), params.get("client_secret")
        client = authenticate_client(self._clients, client_id, secret) if client_id else None
        if client is None:
            raise OAuthError("invalid_client", "Client authentication failed.")
        return client

    def _client_credentials(self, client: Client, params: Mapping[str, str], issuer: str) -> dict[str, Any]:
        allowed = frozenset(client.scopes)
        requested = params.get("scope")
        if requested is None:
            granted = allowed
        else:
            tokens = requested.split(" ")
            if not requested.strip() or not all(_SCOPE_TOKEN.match(token) for token in tokens):
                raise OAuthError("invalid_scope", "scope must be space-separated scope names.")
            granted = parse_scope(requested)
            unknown = sorted(granted - allowed)
            if unknown:
                raise OAuthError("invalid_scope", f"This client may not request: {' '.join(unknown)}.")
        scope = format_scope(granted)
        token, _ = issue_access_token(
            self._signing_keys.current(),
            issuer=issuer,
            audience=issuer,
            subject=client.id,
            client_id=client.id,
            org_id=client.org_id,
            scope=scope,
            ttl_seconds=self._ttl,
        )
        return {"access_token": token, "token_type": "Bearer", "expires_in": self._ttl, "scope": scope}
