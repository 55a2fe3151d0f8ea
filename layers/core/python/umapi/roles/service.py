"""Role definitions (``/roles``): the system roles and an organization's custom ones.

Every change is one DynamoDB transaction with its audit entry. Who holds a role is the users'
side (``users.assignments``); a role is deleted only when nobody holds it (its holder items).
"""

from __future__ import annotations

from typing import Any

from umapi.access.principal import Principal
from umapi.audit import AuditEntry, RequestMeta, field_changes
from umapi.errors import ConflictError, ForbiddenError, NotFoundError
from umapi.ids import new_id
from umapi.roles.catalog import RoleCatalog
from umapi.roles.entities import SYSTEM_ROLES, Role, system_role
from umapi.roles.models import CreateRoleRequest, RoleList, RoleResponse, UpdateRoleRequest
from umapi.roles.repository import RoleRepository
from umapi.time import utc_now_iso


class RoleService:
    """``/roles``: the system roles and the organization's own."""

    def __init__(self, repository: RoleRepository, catalog: RoleCatalog) -> None:
        self._repository = repository
        self._catalog = catalog

    def list(self, principal: Principal) -> RoleList:
        principal.require("roles:read")
        custom = sorted(self._repository.list(principal.org_id), key=lambda role: (role.name.lower(), role.id))
        roles = [*SYSTEM_ROLES.values(), *custom]
        return RoleList(data=[RoleResponse.of(role, principal.org_id) for role in roles])

    def get(self, principal: Principal, ref: str) -> RoleResponse:
        principal.require("roles:read")
        return RoleResponse.of(self._find(principal, ref), principal.org_id)

    def create(self, principal: Principal, request: CreateRoleRequest, meta: RequestMeta) -> RoleResponse:
        principal.require("roles:write")
        principal.require_each(request.permissions, "a role")
        self._name_free(request.name)
        now = utc_now_iso()
        role = Role(
            id=new_id("role"),
            name=request.name,
            permissions=frozenset(request.permissions),
            system=False,
            org_id=principal.org_id,
            description=request.description,
            created_at=now,
            updated_at=now,
        )
        changes = {
            "name": {"from": None, "to": role.name},
            "permissions": {"from": None, "to": sorted(role.permissions)},
        }
        self._repository.create(role, self._audit(principal, meta, "role.created", role, changes))
        return RoleResponse.of(role, principal.org_id)

    def update(self, principal: Principal, ref: str, patch: UpdateRoleRequest, meta: RequestMeta) -> RoleResponse:
        principal.require("roles:write")
        role = self._custom(principal, ref, "changed")
        principal.require_over(role.permissions, f"role {role.id}")
        sent = patch.model_fields_set
        changes: dict[str, Any] = {}
        if "name" in sent and patch.name is not None and patch.name != role.name:
            if patch.name.lower() != role.name.lower():
                self._name_free(patch.name)
            changes["name"] = patch.name
        if "description" in sent and patch.description != role.description:
            changes["description"] = patch.description
        if "permissions" in sent and patch.permissions is not None:
            permissions = frozenset(patch.permissions)
            principal.require_each(permissions, "a role")
            if permissions != role.permissions:
                changes["permissions"] = permissions
        if not changes:
            return RoleResponse.of(role, principal.org_id)
        updated = role._replace(**changes, updated_at=utc_now_iso(), version=role.version + 1)
        diff = field_changes(_auditable(role), _auditable(updated))
        self._repository.update(role, updated, self._audit(principal, meta, "role.updated", updated, diff))
        return RoleResponse.of(updated, principal.org_id)

    def delete(self, principal: Principal, ref: str, meta: RequestMeta) -> None:
        principal.require("roles:write")
        role = self._custom(principal, ref, "deleted")
        principal.require_over(role.permissions, f"role {role.id}")
        holders = self._repository.count_holders(principal.org_id, role.id, utc_now_iso())
        if holders:
            raise ConflictError(
                f"Role {role.id} is still assigned to {holders} user(s); remove it from them first.",
                context={"assigned_user_count": holders},
            )
        self._repository.delete(role, self._audit(principal, meta, "role.deleted", role, {}))

    # ------------------------------------------------------------------ helpers
    def _find(self, principal: Principal, ref: str) -> Role:
        role = self._catalog.resolve(principal.org_id, ref)
        if role is None:
            raise NotFoundError(f"Role {ref} not found.")
        return role

    def _custom(self, principal: Principal, ref: str, verb: str) -> Role:
        role = self._find(principal, ref)
        if role.system:
            raise ForbiddenError(f"{role.name} is a system role and cannot be {verb}; create a custom role instead.")
        return role

    @staticmethod
    def _name_free(name: str) -> None:
        if system_role(name.lower()) is not None:
            raise ConflictError(
                f"{name!r} is the name of a system role; choose another.", context={"conflicting_field": "name"}
            )

    @staticmethod
    def _audit(principal: Principal, meta: RequestMeta, action: str, role: Role, changes: dict[str, Any]) -> AuditEntry:
        return AuditEntry.new(role.org_id or "", principal.actor, action, "role", role.id, meta, changes)


def _auditable(role: Role) -> dict[str, Any]:
    return {"name": role.name, "description": role.description, "permissions": sorted(role.permissions)}
