"""Bearer tokens become principals (docs/api.md §1, §2).

``Authenticator.authenticate`` is the one place a bearer token becomes a ``Principal``: it
verifies the JWT, checks that its client still exists (deleting a client revokes its tokens at
once), for user tokens that the user is still active and its sessions were not ended, counts
the request against the client's rate limit, and resolves ``?org_id=`` for platform admins.
Cost: one ``UpdateItem`` for a client token, the rate-limit count on the client's own item,
which answers the client as it is now (a consistent read in the same call); a user token adds
one consistent ``GetItem`` of the user, before the count, so a revoked token is never counted.
Public keys are cached per container.
"""

from __future__ import annotations

from collections.abc import Mapping

from umapi.access.permissions import PERMISSIONS, PLATFORM_ADMIN, parse_scope
from umapi.access.principal import Principal
from umapi.auth.ratelimit import RateLimiter, WindowGoneError, client_window
from umapi.auth.signing import PublicKeyCache
from umapi.auth.tokens import verify_access_token
from umapi.clients.repository import client_from_item
from umapi.errors import ForbiddenError, InvalidTokenError, NotFoundError, UnauthenticatedError
from umapi.orgs.repository import OrgRepository
from umapi.roles.catalog import RoleCatalog
from umapi.time import utc_now_iso
from umapi.users.entities import User
from umapi.users.holdings import user_permissions
from umapi.users.repository import UserRepository


def bearer_token(headers: Mapping[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("Send an access token: Authorization: Bearer <token>.")
    return token.strip()


def _user_may_act(user: User | None, session_version: int) -> bool:
    """Only active users act; a password change, suspension or archive ends earlier tokens
    exactly: it moves the user's ``session_version`` on, and a token carries the one it was issued at."""
    return user is not None and user.status == "active" and user.session_version == session_version


class Authenticator:
    def __init__(
        self,
        keys: PublicKeyCache,
        users: UserRepository,
        orgs: OrgRepository,
        limiter: RateLimiter,
        default_rate_limit: int,
        roles: RoleCatalog,
    ) -> None:
        self._keys = keys
        self._users = users
        self._roles = roles
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
        user = None
        if claims.subject.startswith("usr_"):
            user = self._users.get(claims.org_id, claims.subject, consistent=True)
            if not _user_may_act(user, claims.session_version):
                raise InvalidTokenError("The access token was revoked.")
        try:
            item = self._limiter.admit(
                client_window(claims.client_id, claims.org_id), self._default_rate_limit, response_headers
            )
        except WindowGoneError:
            raise InvalidTokenError("The access token was revoked.") from None
        client = client_from_item(item)

        scope = parse_scope(claims.scope)
        if user is not None:
            # A user holds what the roles grant now (never baked into the token), within the token's
            # scope and the scopes registered on the client it was issued through.
            granted = frozenset(user_permissions(user, self._roles, utc_now_iso()))
            permissions = granted & scope & frozenset(client.scopes)
        else:
            # A client token carries what the client may still do: a scope removed from the
            # client since the token was issued stops working on the next request.
            permissions = scope & frozenset(client.scopes)
            if PLATFORM_ADMIN in permissions:
                permissions |= frozenset(PERMISSIONS)
        return Principal(
            subject=claims.subject,
            client_id=client.id,
            home_org_id=claims.org_id,
            org_id=self._acting_org(claims.org_id, permissions, query.get("org_id")),
            permissions=permissions,
            token_id=claims.token_id,
            session_version=claims.session_version if user is not None else None,
            session_id=claims.session_id,
            scopes=scope,
            amr=frozenset(claims.amr),
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
