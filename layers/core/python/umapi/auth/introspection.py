"""Token introspection (RFC 7662; docs/api.md §12): whether a token of the caller's organization
is active now, and what it is. Only reads: introspecting a refresh token never uses it.

A token is active when it would be honoured on this request: an access token that verifies
(signature, issuer, lifetime) and whose client still exists and whose user may still act with
that session; a refresh token that is unused, unexpired, in an unrevoked family, of a user
who may still act with that session. Anything else, including a token of another
organization, is ``{"active": false}`` and nothing more (§2.2). A public client, which anyone
may name, learns only about the tokens issued to itself.
"""

from __future__ import annotations

import time
from typing import Any

from umapi.auth.sessions import REFRESH_SECONDS, SessionStore
from umapi.auth.signing import PublicKeyCache
from umapi.auth.tokens import verify_access_token
from umapi.clients.entities import Client
from umapi.clients.repository import ClientRepository
from umapi.errors import InvalidTokenError
from umapi.users.repository import UserRepository

INACTIVE: dict[str, Any] = {"active": False}


class Introspector:
    def __init__(
        self, keys: PublicKeyCache, sessions: SessionStore, users: UserRepository, clients: ClientRepository
    ) -> None:
        self._keys = keys
        self._sessions = sessions
        self._users = users
        self._clients = clients

    def inspect(self, caller: Client, token: str, issuer: str) -> dict[str, Any]:
        """What ``token`` is, for ``caller`` (an authenticated client). Our access tokens are
        JWTs (three dot-separated parts); refresh tokens are opaque: the form picks the look-up,
        so a ``token_type_hint`` is not needed (RFC 7662 §2.1 lets the server ignore it)."""
        if token.count(".") == 2:
            return self._access_token(caller, token, issuer)
        return self._refresh_token(caller, token, issuer)

    def _visible(self, caller: Client, org_id: str, client_id: str) -> bool:
        return org_id == caller.org_id and (not caller.public or client_id == caller.id)

    def _may_act(self, org_id: str, user_id: str, session_version: int) -> bool:
        user = self._users.get(org_id, user_id, consistent=True)
        return user is not None and user.status == "active" and user.session_version == session_version

    def _client_exists(self, client_id: str, org_id: str) -> bool:
        client = self._clients.get(client_id, consistent=True)
        return client is not None and client.org_id == org_id

    def _access_token(self, caller: Client, token: str, issuer: str) -> dict[str, Any]:
        try:
            claims = verify_access_token(token, self._keys, issuer=issuer, audience=issuer)
        except InvalidTokenError:
            return INACTIVE
        if not self._visible(caller, claims.org_id, claims.client_id):
            return INACTIVE
        if not self._client_exists(claims.client_id, claims.org_id):
            return INACTIVE
        if claims.subject.startswith("usr_") and not self._may_act(
            claims.org_id, claims.subject, claims.session_version
        ):
            return INACTIVE
        return {
            "active": True,
            "scope": claims.scope,
            "client_id": claims.client_id,
            "sub": claims.subject,
            "exp": claims.expires_at,
            "iat": claims.issued_at,
            "iss": claims.issuer,
            "token_type": "Bearer",
            "org_id": claims.org_id,
        }

    def _refresh_token(self, caller: Client, token: str, issuer: str) -> dict[str, Any]:
        record = self._sessions.get_refresh(token)
        if record is None or not self._visible(caller, record.org_id, record.client_id):
            return INACTIVE
        if record.used_epoch is not None or record.expires_epoch <= time.time():
            return INACTIVE
        family = self._sessions.get_family(record.family_id)
        if family is None or family.revoked or family.current != record.hash:
            return INACTIVE
        if not self._client_exists(record.client_id, record.org_id):
            return INACTIVE
        if not self._may_act(record.org_id, record.user_id, family.session_version):
            return INACTIVE
        return {
            "active": True,
            "scope": record.scope,
            "client_id": record.client_id,
            "sub": record.user_id,
            "exp": record.expires_epoch,
            "iat": record.expires_epoch - REFRESH_SECONDS,
            "iss": issuer,
            "token_type": "refresh_token",
            "org_id": record.org_id,
        }
