"""Federated sign-in, the provider's half (docs/api.md §12): home-realm discovery, the trip to
the organization's identity provider (authorization code + PKCE + ``state`` + ``nonce``), and
what comes back: the code exchanged at the provider's token endpoint (through
``umapi.outbound``: the SSRF guard, a pinned address, a 5-second timeout, a bounded answer)
and its ID token checked (``umapi.sso.id_tokens``, loaded only then)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlencode

from umapi.digests import sha256_b64url, sha256_hex
from umapi.outbound import OutboundError, request
from umapi.sso.attempts import ATTEMPT_SECONDS, Attempt, Attempts
from umapi.sso.entities import SsoConnection
from umapi.sso.provider import IdTokenError
from umapi.sso.repository import SsoRepository
from umapi.sso.secrets import ConnectionSecrets

TOKEN_TIMEOUT_SECONDS = 5.0
MAX_TOKEN_ANSWER_BYTES = 64 * 1024


class FederationError(Exception):
    """A federated sign-in that cannot go on; the message is safe to show and to audit."""

    def __init__(self, message: str, connection: SsoConnection | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.connection = connection


class Departure(NamedTuple):
    location: str  # the provider's authorization endpoint, with this sign-in's parameters
    browser_secret: str  # for the cookie that binds the way back to this browser


class Vouched(NamedTuple):
    """Who the provider says signed in, and the client's request it interrupted."""

    connection: SsoConnection
    params: dict[str, str]
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    amr: tuple[str, ...]


# Checks a provider's ID token: (id_token, connection, nonce) -> claims (umapi.sso.id_tokens).
IdTokenCheck = Callable[[str, SsoConnection, str], dict[str, Any]]


class Federation:
    def __init__(
        self,
        connections: SsoRepository,
        attempts: Attempts,
        secrets_store: ConnectionSecrets,
        check_id_token: IdTokenCheck,
        allow_loopback: bool,
    ) -> None:
        self._connections = connections
        self._attempts = attempts
        self._secrets = secrets_store
        self._check_id_token = check_id_token
        self._allow_loopback = allow_loopback

    def connection_for(self, org_id: str, email: str) -> SsoConnection | None:
        """Home-realm discovery: the connection of ``org_id`` that claims the email's domain."""
        domain = email.rsplit("@", 1)[-1].strip().lower()
        if not domain or "@" not in email:
            return None
        owner = self._connections.domain_owner(domain)
        if owner is None or owner.org_id != org_id:
            return None
        return self._connections.get(org_id, owner.connection_id)

    def depart(self, connection: SsoConnection, params: dict[str, str], email: str, callback_url: str) -> Departure:
        state, nonce, verifier, browser = (secrets.token_urlsafe(32) for _ in range(4))
        attempt = Attempt(
            connection.org_id,
            connection.id,
            sha256_hex(browser),
            params,
            nonce,
            verifier,
            int(time.time()) + ATTEMPT_SECONDS,
        )
        self._attempts.put(state, attempt)
        query = {
            "response_type": "code",
            "client_id": connection.client_id,
            "redirect_uri": callback_url,
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": sha256_b64url(verifier),
            "code_challenge_method": "S256",
            "login_hint": email,
        }
        separator = "&" if "?" in connection.authorization_endpoint else "?"
        return Departure(f"{connection.authorization_endpoint}{separator}{urlencode(query)}", browser)

    def arrive(self, params: dict[str, str], browser_secret: str | None, callback_url: str) -> Vouched:
        """The provider's answer, checked: the attempt ``state`` names (single use, this
        browser's), the code exchanged, the ID token verified."""
        attempt = self._attempts.take(params.get("state", "")) if params.get("state") else None
        if attempt is None:
            raise FederationError("This sign-in link expired or was already used. Please sign in again.")
        if browser_secret is None or sha256_hex(browser_secret) != attempt.browser:
            raise FederationError("This sign-in was started in another browser. Please sign in again.")
        connection = self._connections.get(attempt.org_id, attempt.connection_id)
        if connection is None:
            raise FederationError("This organization's single sign-on is no longer set up.")
        if "error" in params:
            raise FederationError(f"The identity provider refused the sign-in ({params['error'][:100]}).", connection)
        code = params.get("code")
        if not code:
            raise FederationError("The identity provider sent no authorization code.", connection)
        id_token, access_token = self._exchange(connection, code, attempt.code_verifier, callback_url)
        try:
            claims = self._check_id_token(id_token, connection, attempt.nonce)
        except IdTokenError as exc:
            raise FederationError(f"The identity provider's answer was refused: {exc}", connection) from exc
        if not isinstance(claims.get("email"), str) and connection.userinfo_endpoint and access_token:
            claims = self._userinfo(connection, access_token, claims)
        amr = claims.get("amr")
        return Vouched(
            connection,
            attempt.params,
            claims["sub"],
            claims["email"] if isinstance(claims.get("email"), str) else None,
            claims.get("email_verified") is True,
            claims["name"] if isinstance(claims.get("name"), str) else None,
            tuple(str(value) for value in amr) if isinstance(amr, list) else (),
        )

    def _userinfo(self, connection: SsoConnection, access_token: str, claims: dict[str, Any]) -> dict[str, Any]:
        """The email, its verification and the name from the provider's userinfo, for a provider
        that keeps them out of the ID token: only if userinfo names the same ``sub`` (OIDC Core
        §5.3.2), and never the ID token's own claims."""
        answer = self._call(
            connection,
            "GET",
            connection.userinfo_endpoint or "",
            None,
            {"Authorization": f"Bearer {access_token}", "Accept": "application/json", "User-Agent": "umapi-sso/1.0"},
            "the userinfo request",
        )
        try:
            info = json.loads(answer)
        except (ValueError, UnicodeDecodeError):
            info = None
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            raise FederationError("The identity provider's userinfo is not about the user who signed in.", connection)
        released = {name: info[name] for name in ("email", "email_verified", "name") if name in info}
        return released | claims

    def _call(
        self,
        connection: SsoConnection,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        what: str = "the code",
    ) -> bytes:
        try:
            answer = request(
                method,
                url,
                body=body,
                headers=headers,
                timeout=TOKEN_TIMEOUT_SECONDS,
                allow_loopback=self._allow_loopback,
                max_bytes=MAX_TOKEN_ANSWER_BYTES,
            )
        except OutboundError as failure:
            raise FederationError(f"The identity provider did not answer ({failure.message}).", connection) from failure
        if answer.status != 200 or not answer.complete:
            raise FederationError(f"The identity provider refused {what} (HTTP {answer.status}).", connection)
        return answer.body

    def _exchange(
        self, connection: SsoConnection, code: str, verifier: str, callback_url: str
    ) -> tuple[str, str | None]:
        secret = self._secrets.get(connection.id)
        basic = base64.b64encode(f"{_form(connection.client_id)}:{_form(secret)}".encode()).decode()
        body = urlencode(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url, "code_verifier": verifier}
        ).encode()
        answer = self._call(
            connection,
            "POST",
            connection.token_endpoint,
            body,
            {
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": "umapi-sso/1.0",
            },
        )
        try:
            tokens = json.loads(answer)
        except (ValueError, UnicodeDecodeError):
            tokens = None
        if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
            raise FederationError("The identity provider answered without an ID token.", connection)
        access_token = tokens.get("access_token")
        return str(tokens["id_token"]), access_token if isinstance(access_token, str) else None


def _form(value: str) -> str:
    """RFC 6749 §2.3.1: client credentials are form-url-encoded before Basic."""
    from urllib.parse import quote_plus

    return quote_plus(value)
