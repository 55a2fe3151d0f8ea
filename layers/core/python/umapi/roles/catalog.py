"""Role definitions by id or name: the system roles and an organization's custom ones (docs/api.md §2, §5).

System roles are fixed and never stored: ``role_admin``, ``role_member``, ``role_viewer`` (their
names are accepted wherever an id is). Custom roles live in their organization's partition.
Permissions are evaluated from the roles on every request, never baked into tokens or cached,
so a changed role or an expired assignment takes effect on the next request (``users.holdings``
turns a user's assignments into permissions through this catalog).
"""

from __future__ import annotations

from typing import Protocol

from umapi.roles.entities import SYSTEM_ROLES, Role, is_custom_role_id, system_role


class RoleReader(Protocol):
    """What the catalog needs of storage: custom roles of one organization, read consistently."""

    def get(self, org_id: str, role_id: str) -> Role | None: ...

    def get_many(self, org_id: str, role_ids: set[str]) -> dict[str, Role]: ...


class RoleCatalog:
    """Looks roles up by id (or system-role name): system roles from memory, custom roles from
    their organization with a consistent read, so nothing stale ever grants a permission."""

    def __init__(self, repository: RoleReader | None = None) -> None:
        self._repository = repository

    def resolve(self, org_id: str, ref: str) -> Role | None:
        role = system_role(ref)
        if role is None and self._repository is not None and is_custom_role_id(ref):
            role = self._repository.get(org_id, ref)
        return role

    def by_ids(self, org_id: str, role_ids: set[str]) -> dict[str, Role]:
        found = {role_id: SYSTEM_ROLES[role_id] for role_id in role_ids if role_id in SYSTEM_ROLES}
        custom = {role_id for role_id in role_ids if is_custom_role_id(role_id)}
        if custom and self._repository is not None:
            found.update(self._repository.get_many(org_id, custom))
        return found
