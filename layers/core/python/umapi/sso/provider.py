"""An organization's OpenID provider, as its discovery document describes it (OpenID Connect
Discovery 1.0 §4), fetched through ``umapi.outbound`` (the SSRF guard, a pinned address, no
redirects, a short timeout, a bounded answer) and checked before a connection is saved:

- the document is JSON whose ``issuer`` is exactly the configured issuer (§4.3);
- the authorization, token and key-set endpoints are there and are URLs the guard accepts
  (https; http only on the loopback hosts a local runtime allows);
- it signs ID tokens with RS256 (what every provider must support) and answers ``code``.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from umapi.outbound import OutboundError, request
from umapi.safe_urls import UnsafeUrlError, parse

DISCOVERY_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 256 * 1024


class ProviderError(Exception):
    """The provider cannot be used; the message says why (safe to show)."""


class IdTokenError(Exception):
    """A provider's ID token is not acceptable; the message says why (safe to show and to audit).
    Raised by ``umapi.sso.id_tokens``, defined here so that catching it loads no PyJWT."""


class ProviderEndpoints(NamedTuple):
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None  # read when an ID token leaves out the email (OIDC Core §5.4)


def discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def fetch_json(url: str, *, allow_loopback: bool, timeout: float = DISCOVERY_TIMEOUT_SECONDS) -> Any:
    """A JSON document from a provider, or ``ProviderError``."""
    try:
        answer = request(
            "GET",
            url,
            headers={"Accept": "application/json", "User-Agent": "umapi-sso/1.0"},
            timeout=timeout,
            allow_loopback=allow_loopback,
            max_bytes=MAX_DOCUMENT_BYTES,
        )
    except OutboundError as failure:
        raise ProviderError(f"{url}: {failure.message}") from failure
    if answer.status != 200:
        raise ProviderError(f"{url} answered HTTP {answer.status}")
    if not answer.complete:
        raise ProviderError(f"{url} answered more than {MAX_DOCUMENT_BYTES // 1024} KiB, or too slowly")
    try:
        return json.loads(answer.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProviderError(f"{url} did not answer JSON") from exc


def discover(issuer: str, *, allow_loopback: bool) -> ProviderEndpoints:
    """The provider's endpoints, from its discovery document, checked; ``ProviderError`` otherwise."""
    document = fetch_json(discovery_url(issuer), allow_loopback=allow_loopback)
    if not isinstance(document, dict):
        raise ProviderError("the discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise ProviderError(f"the discovery document names another issuer ({str(document.get('issuer'))[:200]})")
    required = [
        _endpoint(document, name, allow_loopback) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
    ]
    algorithms = document.get("id_token_signing_alg_values_supported")
    if not isinstance(algorithms, list) or "RS256" not in algorithms:
        raise ProviderError("the provider does not sign ID tokens with RS256")
    responses = document.get("response_types_supported")
    if isinstance(responses, list) and "code" not in responses:
        raise ProviderError("the provider does not support the authorization code flow")
    userinfo = _endpoint(document, "userinfo_endpoint", allow_loopback) if "userinfo_endpoint" in document else None
    authorization, token, jwks = required
    return ProviderEndpoints(authorization, token, jwks, userinfo)


def _endpoint(document: dict[str, Any], name: str, allow_loopback: bool) -> str:
    """The document's URL ``name``, which the outgoing guard accepts; ``ProviderError`` otherwise."""
    value = document.get(name)
    if not isinstance(value, str):
        raise ProviderError(f"the discovery document has no {name}")
    try:
        parse(value, allow_loopback=allow_loopback)
    except UnsafeUrlError as exc:
        raise ProviderError(f"{name} {exc}") from exc
    return value
