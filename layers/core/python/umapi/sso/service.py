"""SSO connections (docs/api.md §12): an organization's own OpenID provider, the email domains
whose people sign in through it, and what happens to people it vouches for.

No escalation (docs/api.md §2): a connection's ``default_role`` is what anyone the provider
vouches for becomes, so making or changing a connection needs every permission of that role
(``require_each``), and changing or deleting one needs every permission of its current default
role (``require_over``): nobody routes strangers into a role above their own. And a provider
may vouch for an existing account's email: the connection keeps what its administrator held
(``ceiling``), and an account that holds more is never linked through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from umapi.access.principal import Principal
from umapi.audit import AuditEntry, RequestMeta, field_changes
from umapi.errors import ErrorDetail, NotFoundError, ValidationError
from umapi.ids import new_id
from umapi.pagination import CursorCodec, Page
from umapi.roles.catalog import RoleCatalog
from umapi.roles.entities import Role
from umapi.sso.entities import SsoConnection
from umapi.sso.models import CreateSsoConnectionRequest, SsoConnectionResponse, UpdateSsoConnectionRequest
from umapi.sso.provider import ProviderEndpoints, ProviderError
from umapi.sso.repository import SsoRepository
from umapi.sso.secrets import ConnectionSecrets
from umapi.time import utc_now_iso

Discover = Callable[[str], ProviderEndpoints]


def _ceiling(principal: Principal) -> tuple[str, ...] | None:
    """What the caller holds, as the most an account linked through the connection may hold."""
    return None if principal.holds_everything else tuple(sorted(principal.permissions))


class SsoService:
    def __init__(
        self,
        repository: SsoRepository,
        secrets: ConnectionSecrets,
        catalog: RoleCatalog,
        cursors: CursorCodec,
        discover: Discover,
    ) -> None:
        self._repository = repository
        self._secrets = secrets
        self._catalog = catalog
        self._cursors = cursors
        self._discover = discover

    def create(
        self, principal: Principal, request: CreateSsoConnectionRequest, meta: RequestMeta
    ) -> SsoConnectionResponse:
        principal.require("sso:write")
        self._grantable_role(principal, request.default_role)
        endpoints = self._provider(request.issuer)
        now = utc_now_iso()
        connection = SsoConnection(
            id=new_id("sso"),
            org_id=principal.org_id,
            name=request.name,
            type=request.type,
            issuer=request.issuer,
            client_id=request.client_id,
            domains=tuple(request.domains),
            jit_provisioning=request.jit_provisioning,
            default_role=request.default_role,  # as the caller named it: "member", or a role id
            enforce=request.enforce,
            authorization_endpoint=endpoints.authorization_endpoint,
            token_endpoint=endpoints.token_endpoint,
            jwks_uri=endpoints.jwks_uri,
            userinfo_endpoint=endpoints.userinfo_endpoint,
            created_at=now,
            updated_at=now,
            ceiling=_ceiling(principal),
        )
        audit = self._audit(principal, meta, "sso_connection.created", connection, {}, connection.audited_fields())
        # The secret first: a connection is never stored without one. If the connection then
        # cannot be stored (a domain taken meanwhile), its secret goes again.
        self._secrets.create(connection.id, request.client_secret)
        stored = False
        try:
            self._repository.create(connection, audit)
            stored = True
        finally:
            if not stored:
                self._secrets.delete(connection.id)
        return SsoConnectionResponse.of(connection)

    def get(self, principal: Principal, connection_id: str) -> SsoConnectionResponse:
        principal.require("sso:read")
        return SsoConnectionResponse.of(self._find(principal, connection_id))

    def list_page(self, principal: Principal, limit: int, cursor: str | None) -> Page[SsoConnectionResponse]:
        principal.require("sso:read")
        listing = f"sso:{principal.org_id}"
        start = self._cursors.decode(cursor, listing) if cursor else None
        connections, next_key = self._repository.list_page(principal.org_id, limit, start)
        return Page[SsoConnectionResponse](
            data=[SsoConnectionResponse.of(connection) for connection in connections],
            pagination=self._cursors.page_info(limit, next_key, listing),
        )

    def update(
        self, principal: Principal, connection_id: str, patch: UpdateSsoConnectionRequest, meta: RequestMeta
    ) -> SsoConnectionResponse:
        principal.require("sso:write")
        current = self._find(principal, connection_id)
        self._require_over(principal, current)
        changes: dict[str, Any] = patch.model_dump(exclude_unset=True)
        secret = changes.pop("client_secret", None)
        if "default_role" in changes:
            self._grantable_role(principal, changes["default_role"])
        if "domains" in changes:
            changes["domains"] = tuple(changes["domains"])
        if "issuer" in changes and changes["issuer"] != current.issuer:
            changes |= self._provider(changes["issuer"])._asdict()
        updated = current._replace(
            **changes, updated_at=utc_now_iso(), version=current.version + 1, ceiling=_ceiling(principal)
        )
        audited = current.audited_fields(), updated.audited_fields()
        audit = self._audit(principal, meta, "sso_connection.updated", updated, *audited, secret=secret is not None)
        self._repository.replace(current, updated, audit)
        if secret is not None:
            self._secrets.replace(current.id, secret)
        return SsoConnectionResponse.of(updated)

    def delete(self, principal: Principal, connection_id: str, meta: RequestMeta) -> None:
        principal.require("sso:write")
        connection = self._find(principal, connection_id)
        self._require_over(principal, connection)
        audit = self._audit(principal, meta, "sso_connection.deleted", connection, connection.audited_fields(), {})
        self._repository.delete(connection, audit)
        self._secrets.delete(connection.id)

    # ------------------------------------------------------------------ helpers
    def _find(self, principal: Principal, connection_id: str) -> SsoConnection:
        connection = self._repository.get(principal.org_id, connection_id)
        if connection is None:
            raise NotFoundError(f"SSO connection {connection_id} not found.")
        return connection

    def _grantable_role(self, principal: Principal, ref: str) -> Role:
        role = self._catalog.resolve(principal.org_id, ref)
        if role is None:
            raise ValidationError(
                f"default_role {ref} is not a role of this organization.",
                details=[ErrorDetail("default_role", "no such role", "unknown_role")],
            )
        principal.require_each(role.permissions, "an SSO connection's default role")
        return role

    def _require_over(self, principal: Principal, connection: SsoConnection) -> None:
        role = self._catalog.resolve(connection.org_id, connection.default_role)
        principal.require_over(role.permissions if role else (), f"SSO connection {connection.id}")

    def _provider(self, issuer: str) -> ProviderEndpoints:
        try:
            return self._discover(issuer)
        except ProviderError as problem:
            raise ValidationError(
                f"The identity provider at {issuer} cannot be used: {problem}",
                details=[ErrorDetail("issuer", str(problem), "invalid_provider")],
            ) from problem

    @staticmethod
    def _audit(
        principal: Principal,
        meta: RequestMeta,
        action: str,
        connection: SsoConnection,
        before: dict[str, Any],
        after: dict[str, Any],
        *,
        secret: bool = False,
    ) -> AuditEntry:
        changes = field_changes(before, after)
        if secret:  # that it changed, never what it is
            changes["client_secret"] = {"from": "(hidden)", "to": "(hidden)"}
        return AuditEntry.new(
            connection.org_id, principal.actor, action, "sso_connection", connection.id, meta, changes
        )
