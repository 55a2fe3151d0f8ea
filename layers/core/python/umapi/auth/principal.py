"""Who is calling, acting in which organization, with which permissions (contract §1, §2).

``Authenticator.authenticate`` is the one place a bearer token becomes a ``Principal``: it
verifies the JWT, checks that its client still exists (deleting a client revokes its tokens at
once), counts the request against the client's rate limit, and resolves ``?org_id=`` for
platform admins. Cost for a client token: one consistent ``GetItem`` (the client) and one
``UpdateItem`` (the rate-limit window); public keys are cached per container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from umapi.audit import Actor
from umapi.auth.permissions import PERMISSIONS, PLATFORM_ADMIN, parse_scope
from umapi.auth.ratelimit import RateLimiter
from umapi.auth.signing import PublicKeyCache
from umapi.auth.tokens import verify_access_token
from umapi.clients.repository import ClientRepository
from umapi.errors import ForbiddenError, InvalidTokenError, NotFoundError, UnauthenticatedError
from umapi.orgs.repository import OrgRepository


@dataclass(frozen=True)
class Principal:
    subject: str  # cli_… for client tokens, usr_… for user tokens
    client_id: str
    home_org_id: str  # the organization the token was issued in
    org_id: str  # the organization this request acts in (differs only for platform admins)
    permissions: frozenset[str]
    token_id: str

    @property
    def is_platform_admin(self) -> bool:
        return PLATFORM_ADMIN in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(type="user" if self.subject.startswith("usr_") else "client", id=self.subject)

    def require(self, permission: str) -> None:
        if permission not in self.permissions and not self.is_platform_admin:
            raise ForbiddenError(
                f"This token lacks the {permission} permission.", context={"required_permission": permission}
            )

    def require_platform_admin(self) -> None:
        if not self.is_platform_admin:
            raise ForbiddenError(
                "Only a platform admin token may do this.", context={"required_permission": PLATFORM_ADMIN}
            )


def bearer_token(headers: Mapping[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("Send an access token: Authorization: Bearer <token>.")
    return token.strip()


class Authenticator:
    def __init__(
        self,
        keys: PublicKeyCache,
        clients: ClientRepository,
        orgs: OrgRepository,
        limiter: RateLimiter,
        default_rate_limit: int,
    ) -> None:
        self._keys = keys
        self._clients = clients
        self._orgs = orgs
        self._limiter = limiter
        self._default_rate_limit = default_rate_limit

    def authenticate(
        self,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        issuer: str,
        response_headers: dict[str, str],
    ) -> Principal:
        claims = verify_access_token(bearer_token(headers), self._keys, issuer=issuer, audience=issuer)
        client = self._clients.get(claims.client_id, consistent=True)
        if client is None or client.org_id != claims.org_id:
            raise InvalidTokenError("The access token was revoked.")
        self._limiter.admit(client.id, client.rate_limit_per_minute or self._default_rate_limit, response_headers)

        # A client token carries what the client may still do: a scope removed from the
        # client since the token was issued stops working on the next request.
        permissions = parse_scope(claims.scope) & frozenset(client.scopes)
        if PLATFORM_ADMIN in permissions:
            permissions |= frozenset(PERMISSIONS)
        return Principal(
            subject=claims.subject,
            client_id=client.id,
            home_org_id=claims.org_id,
            org_id=self._acting_org(claims.org_id, permissions, query.get("org_id")),
            permissions=permissions,
            token_id=claims.token_id,
        )

    def _acting_org(self, home_org_id: str, permissions: frozenset[str], requested: str | None) -> str:
        if not requested or requested == home_org_id:
            return home_org_id
        if PLATFORM_ADMIN not in permissions:
            raise ForbiddenError(
                "Only a platform admin token may act in another organization (org_id).",
                context={"required_permission": PLATFORM_ADMIN},
            )
        if self._orgs.get(requested) is None:
            raise NotFoundError(f"Organization {requested} not found.")
        return requested
