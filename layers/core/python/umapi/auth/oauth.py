"""The token endpoint (RFC 6749 §3.2, §4.4, §5): parsing, client authentication, grants.

Order of checks: a malformed request (``invalid_request``), an unknown grant
(``unsupported_grant_type``), client authentication (``invalid_client``, 401), the client's
rate limit (429), whether the client may use the grant (``unauthorized_client``), then the
grant's own rules (``invalid_scope``, ...).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from umapi.access.permissions import OIDC_SCOPES, OPENID, format_scope, parse_scope
from umapi.audit import Actor, AuditEntry, RequestMeta
from umapi.auth.introspection import INACTIVE, Introspector
from umapi.auth.oidc import SignIn, user_claims
from umapi.auth.parameters import (
    CLIENT_CREDENTIALS,
    PARAMETER_LIMITS,
    malformed,
)
from umapi.auth.ratelimit import RateLimiter, Window, WindowGoneError, bucket_window, client_window
from umapi.auth.scopes import user_token_scope
from umapi.auth.sessions import RefreshRecord, ReuseError, SessionStore, s256
from umapi.auth.signing import SigningKeyCache
from umapi.auth.tokens import issue_access_token, issue_id_token
from umapi.clients.credentials import authenticate_client
from umapi.clients.entities import Client
from umapi.clients.repository import ClientRepository
from umapi.errors import OAuthError
from umapi.observability import logger, metrics
from umapi.roles.catalog import RoleCatalog
from umapi.table_keys import token_failure_bucket
from umapi.text import well_formed
from umapi.time import utc_now_iso
from umapi.users.entities import User
from umapi.users.holdings import user_permissions
from umapi.users.repository import UserRepository

SUPPORTED_GRANTS = ("client_credentials", "authorization_code", "refresh_token")
# Failed token requests per minute per (claimed client, source address), apart from client quotas.
FAILED_TOKEN_REQUESTS_PER_MINUTE = 30
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 §4.1
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")  # RFC 6749 §3.3 scope-token


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
        sessions: SessionStore,
        users: UserRepository,
        roles: RoleCatalog,
        introspector: Introspector,
        reuse_grace_seconds: int = 0,
    ) -> None:
        self._introspector = introspector
        self._sessions = sessions
        self._users = users
        self._roles = roles
        self._grace = reuse_grace_seconds
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
        meta: RequestMeta,
    ) -> dict[str, Any]:
        grant_type = params.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required.")
        if grant_type not in SUPPORTED_GRANTS:
            shown = grant_type if well_formed(grant_type, PARAMETER_LIMITS["grant_type"]) else "(malformed)"
            raise OAuthError("unsupported_grant_type", f"grant_type {shown} is not supported.")
        return self._gated(
            params,
            authorization,
            response_headers,
            meta,
            lambda client: self._grant(grant_type, client, params, issuer, meta),
        )

    def introspect(
        self,
        params: Mapping[str, str],
        authorization: str | None,
        issuer: str,
        response_headers: dict[str, str],
        meta: RequestMeta,
    ) -> dict[str, Any]:
        """RFC 7662 for an authenticated client, counted as a token request is."""

        def inspect(client: Client) -> dict[str, Any]:
            token = params.get("token")
            if not token:
                raise OAuthError("invalid_request", "token is required.")
            if not well_formed(token, PARAMETER_LIMITS["token"]):
                return INACTIVE  # no token of ours looks like this: not active
            return self._introspector.inspect(client, token, issuer)

        return self._gated(params, authorization, response_headers, meta, inspect)

    def _gated(
        self,
        params: Mapping[str, str],
        authorization: str | None,
        response_headers: dict[str, str],
        meta: RequestMeta,
        action: Callable[[Client], dict[str, Any]],
    ) -> dict[str, Any]:
        """``action`` for the client the request authenticates, within its rate limit; every
        refusal counts in the failures' bucket of the claimed client and source address."""
        try:
            bad = [name for name in malformed(params) if name not in CLIENT_CREDENTIALS | {"token"}]
            if bad:
                raise OAuthError("invalid_request", f"{', '.join(bad)}: too long, or not valid text.")
            client = self._authenticate_client(params, authorization)
            window = client_window(client.id, client.org_id)
            if client.public:  # anyone can name it: it is counted only once the grant succeeds
                self._limiter.peek(window, self._default_rate_limit, response_headers)
            else:  # it proved who it is
                self._count_proven(window, response_headers)
            answer = action(client)
        except OAuthError:
            # Failures count in a bucket of their own, per claimed client and source address (429
            # once it is full), so a stranger who knows a public client_id cannot spend that
            # client's quota and lock its users out (docs/api.md §3).
            failures = token_failure_bucket(self._claimed_client_id(params, authorization), meta.ip)
            self._limiter.admit(bucket_window(failures), FAILED_TOKEN_REQUESTS_PER_MINUTE, response_headers)
            raise
        if client.public:
            self._limiter.count(window, self._default_rate_limit, response_headers)
        return answer

    def _count_proven(self, window: Window, response_headers: dict[str, str]) -> None:
        try:
            self._limiter.admit(window, self._default_rate_limit, response_headers)
        except WindowGoneError:  # deleted since it authenticated, a moment ago
            raise OAuthError("invalid_client", "Client authentication failed.") from None

    def _grant(
        self, grant_type: str, client: Client, params: Mapping[str, str], issuer: str, meta: RequestMeta
    ) -> dict[str, Any]:
        if grant_type not in client.grant_types or (client.public and grant_type == "client_credentials"):
            raise OAuthError("unauthorized_client", f"This client may not use the {grant_type} grant.")
        if grant_type == "authorization_code":
            return self._authorization_code(client, params, issuer, meta)
        if grant_type == "refresh_token":
            return self._refresh(client, params, issuer, meta)
        return self._client_credentials(client, params, issuer)

    def revoke(self, params: Mapping[str, str], authorization: str | None) -> None:
        """RFC 7009: revoke a refresh token's family. Unknown tokens, access tokens (they expire
        within the hour) and any ``token_type_hint`` are fine: the hint only orders the look-up
        (§2.1), and there is one look-up. Always 200."""
        client = self._authenticate_client(params, authorization)
        token = params.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required.")
        if not well_formed(token, PARAMETER_LIMITS["token"]):
            return  # no token of ours looks like this: an unknown token (RFC 7009 §2.2)
        record = self._sessions.get_refresh(token)
        if record is not None and record.client_id == client.id:
            self._sessions.revoke_family(record.family_id)

    # ------------------------------------------------------------------ user grants
    def _authorization_code(
        self, client: Client, params: Mapping[str, str], issuer: str, meta: RequestMeta
    ) -> dict[str, Any]:
        code = params.get("code")
        if not code:
            raise OAuthError("invalid_request", "code is required.")
        try:
            grant = self._sessions.consume_code(code)
        except ReuseError as reuse:
            # The first use still wins (exactly one does), and what it issued stops working
            # (RFC 6749 §4.1.2), whichever request gets there first: the family is revoked here
            # if it exists already, or starts revoked if the burn lands first.
            self._sessions.burn_code(code)
            if reuse.family_id:
                self._sessions.revoke_family(reuse.family_id)
            raise OAuthError("invalid_grant", "The authorization code was already used.") from reuse
        if grant is None or grant.client_id != client.id:
            raise OAuthError("invalid_grant", "The authorization code is unknown, expired or not this client's.")
        if params.get("redirect_uri") != grant.redirect_uri:  # the very URI the code was sent to
            raise OAuthError("invalid_grant", "redirect_uri differs from the one the code was issued for.")
        verifier = params.get("code_verifier")
        if grant.code_challenge is None:
            if verifier is not None:  # RFC 9700 §2.1.1: no PKCE downgrade
                raise OAuthError("invalid_grant", "This code was issued without a code_challenge; omit code_verifier.")
        elif (
            verifier is None
            or not _VERIFIER.match(verifier)
            or not hmac.compare_digest(s256(verifier), grant.code_challenge)
        ):
            raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.")
        user = self._active_user(grant.org_id, grant.user_id, grant.session_version)
        refresh = self._sessions.start_family(grant.family_id, grant, grant.scope, code)
        if refresh is None:
            raise OAuthError("invalid_grant", "The authorization code was already used.")
        sign_in = SignIn(grant.auth_time, grant.amr, grant.nonce, grant.idp)
        return self._user_tokens(client, user, grant.scope, refresh, issuer, grant.family_id, sign_in)

    def _refresh(self, client: Client, params: Mapping[str, str], issuer: str, meta: RequestMeta) -> dict[str, Any]:
        token = params.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required.")
        record = self._sessions.get_refresh(token)
        if record is None or record.client_id != client.id or record.expires_epoch <= time.time():
            raise OAuthError("invalid_grant", "The refresh token is unknown, expired or not this client's.")
        family = self._sessions.get_family(record.family_id)
        if family is None or family.revoked:
            raise OAuthError("invalid_grant", "The refresh token was revoked.")
        user = self._active_user(record.org_id, record.user_id, family.session_version)
        requested = params.get("scope")
        scope = record.scope
        if requested is not None:
            if not parse_scope(requested) <= parse_scope(record.scope):
                raise OAuthError("invalid_scope", "A refresh cannot widen the scope of the login.")
            scope = format_scope(parse_scope(requested))
        within_grace = (
            record.used_epoch is not None
            and self._grace > 0
            and time.time() - record.used_epoch <= self._grace
            and record.successor == family.current
        )
        try:
            new_token = self._sessions.rotate(record, grace=within_grace)
        except ReuseError:
            self._reuse_detected(record, meta)
            raise OAuthError("invalid_grant", "The refresh token was already used; the session is revoked.") from None
        except PermissionError:
            raise OAuthError("invalid_grant", "The refresh token was revoked.") from None
        # A refreshed ID token keeps the sign-in's time and methods; the nonce belonged to the
        # authentication request only (OIDC Core §12.2).
        sign_in = SignIn(family.auth_time, family.amr, idp=family.idp)
        return self._user_tokens(client, user, scope, new_token, issuer, record.family_id, sign_in)

    def _active_user(self, org_id: str, user_id: str, session_version: int) -> User:
        """The user, if still active and its sessions were not ended since ``session_version``."""
        user = self._users.get(org_id, user_id, consistent=True)
        if user is None or user.status != "active":
            raise OAuthError("invalid_grant", "The user may no longer sign in.")
        if user.session_version != session_version:
            raise OAuthError("invalid_grant", "The session was ended (password change or suspension).")
        return user

    def _reuse_detected(self, record: RefreshRecord, meta: RequestMeta) -> None:
        self._sessions.revoke_family(record.family_id)
        logger.warning("token.reuse_detected", extra={"family_id": record.family_id, "client_id": record.client_id})
        metrics.add_metric(name="RefreshTokenReuse", unit="Count", value=1)
        entry = AuditEntry.new(
            record.org_id,
            Actor("client", record.client_id),
            "token.reuse_detected",
            "user",
            record.user_id,
            meta,
            {"family_id": {"from": None, "to": record.family_id}},
        )
        self._users.put_audit(entry)

    def _user_tokens(
        self,
        client: Client,
        user: User,
        scope: str,
        refresh: str,
        issuer: str,
        family_id: str,
        sign_in: SignIn,
    ) -> dict[str, Any]:
        """The user's tokens: the permissions the sign-in granted that the user still holds, the
        OpenID Connect scopes it granted, and an ID token when one of them is ``openid``."""
        allowed = user_token_scope(user_permissions(user, self._roles, utc_now_iso()), client)
        requested = parse_scope(scope)
        granted = (requested & allowed) | (requested & frozenset(OIDC_SCOPES))
        answer = self._answer(
            issuer,
            subject=user.id,
            client=client,
            org_id=user.org_id,
            scope=format_scope(granted),
            refresh=refresh,
            session_version=user.session_version,
            session_id=family_id,
            idp=sign_in.idp,
            sign_in=sign_in,
        )
        if OPENID in granted:
            answer["id_token"] = issue_id_token(
                self._signing_keys.current(),
                issuer=issuer,
                client_id=client.id,
                subject=user.id,
                ttl_seconds=self._ttl,
                auth_time=sign_in.auth_time,
                amr=sign_in.amr,
                claims=user_claims(user, granted) | ({"idp": sign_in.idp} if sign_in.idp else {}),
                access_token=answer["access_token"],
                session_id=family_id,
                nonce=sign_in.nonce,
            )
        return answer

    def _answer(
        self,
        issuer: str,
        *,
        subject: str,
        client: Client,
        org_id: str,
        scope: str,
        refresh: str | None = None,
        session_version: int | None = None,
        session_id: str | None = None,
        idp: str | None = None,
        sign_in: SignIn | None = None,
    ) -> dict[str, Any]:
        """RFC 6749 §5.1: a signed access token, and the refresh token when there is one."""
        token, _ = issue_access_token(
            self._signing_keys.current(),
            issuer=issuer,
            audience=issuer,
            subject=subject,
            client_id=client.id,
            org_id=org_id,
            scope=scope,
            ttl_seconds=self._ttl,
            session_version=session_version,
            session_id=session_id,
            idp=idp,
            auth_time=sign_in.auth_time if sign_in else None,
            amr=sign_in.amr if sign_in else (),
        )
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": self._ttl}
        if refresh is not None:
            answer["refresh_token"] = refresh
        return answer | {"scope": scope}

    @staticmethod
    def _claimed_client_id(params: Mapping[str, str], authorization: str | None) -> str:
        """The client a token request names (Basic or body), before it is authenticated."""
        try:
            basic = basic_credentials(authorization)
        except OAuthError:
            basic = None
        claimed = (basic[0] if basic else params.get("client_id", "")) or "-"
        return claimed if well_formed(claimed, PARAMETER_LIMITS["client_id"]) else "(malformed)"

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
        if not well_formed(client_id, PARAMETER_LIMITS["client_id"]) or (
            secret is not None and not well_formed(secret, PARAMETER_LIMITS["client_secret"])
        ):
            raise OAuthError("invalid_client", "Client authentication failed.")
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
        return self._answer(issuer, subject=client.id, client=client, org_id=client.org_id, scope=format_scope(granted))
