"""Organizations: created and listed by platform admins, readable by their own members."""

from __future__ import annotations

from umapi.access.principal import Principal
from umapi.audit import AuditEntry, RequestMeta
from umapi.clients.dashboard import dashboard_client
from umapi.clients.repository import ClientRepository
from umapi.errors import NotFoundError
from umapi.ids import new_id
from umapi.orgs.entities import Organization
from umapi.orgs.models import CreateOrgRequest, OrgResponse
from umapi.orgs.repository import OrgRepository
from umapi.outbox import audit_put
from umapi.pagination import CursorCodec, Page
from umapi.time import utc_now_iso

ORGS_LISTING = "orgs"


class OrgService:
    def __init__(self, repository: OrgRepository, cursors: CursorCodec, clients: ClientRepository) -> None:
        self._repository = repository
        self._cursors = cursors
        self._clients = clients

    def create(self, principal: Principal, request: CreateOrgRequest, meta: RequestMeta) -> OrgResponse:
        principal.require_platform_admin()
        now = utc_now_iso()
        org = Organization(id=new_id("org"), name=request.name, created_at=now, updated_at=now)
        audit = AuditEntry.new(
            org_id=org.id,
            actor=principal.actor,
            action="org.created",
            target_type="org",
            target_id=org.id,
            meta=meta,
            changes={"name": {"from": None, "to": org.name}},
        )
        # Its developer dashboard client comes with it (docs/api.md §13), in the same transaction.
        dashboard = dashboard_client(org.id, now)
        created = AuditEntry.new(org.id, principal.actor, "client.created", "client", dashboard.id, meta, {})
        self._repository.create(
            org, audit, [*self._clients.create_items(dashboard), audit_put(self._repository.table, created)]
        )
        return OrgResponse.of(org)

    def get(self, principal: Principal, org_id: str) -> OrgResponse:
        org = self._repository.get(org_id) if principal.is_platform_admin or org_id == principal.home_org_id else None
        if org is None:
            raise NotFoundError(f"Organization {org_id} not found.")
        return OrgResponse.of(org)

    def list_page(self, principal: Principal, limit: int, cursor: str | None) -> Page[OrgResponse]:
        principal.require_platform_admin()
        start = self._cursors.decode(cursor, ORGS_LISTING) if cursor else None
        orgs, next_key = self._repository.list_page(limit, start)
        return Page[OrgResponse](
            data=[OrgResponse.of(org) for org in orgs],
            pagination=self._cursors.page_info(limit, next_key, ORGS_LISTING),
        )
