"""Roles a user can hold, and what a user may do through them (contract §2, §5).

System roles are fixed: ``role_admin``, ``role_member``, ``role_viewer`` (their names are accepted
wherever an id is). Permissions are evaluated from the roles on every request, never baked into
tokens, and an expired assignment grants nothing from the moment it expires.
"""

from __future__ import annotations

from dataclasses import dataclass

from umapi.auth.permissions import SYSTEM_ROLE_PERMISSIONS
from umapi.users.models import User


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    permissions: frozenset[str]
    system: bool = True


SYSTEM_ROLES: dict[str, Role] = {
    f"role_{name}": Role(id=f"role_{name}", name=name, permissions=permissions)
    for name, permissions in SYSTEM_ROLE_PERMISSIONS.items()
}


class RoleCatalog:
    """Looks roles up by id or system-role name."""

    def resolve(self, org_id: str, ref: str) -> Role | None:
        role_id = ref if ref.startswith("role_") else f"role_{ref}"
        return SYSTEM_ROLES.get(role_id)

    def by_ids(self, org_id: str, role_ids: set[str]) -> dict[str, Role]:
        return {role_id: SYSTEM_ROLES[role_id] for role_id in role_ids if role_id in SYSTEM_ROLES}


def active_roles(user: User, catalog: RoleCatalog, now_iso: str) -> list[tuple[Role, str, str | None]]:
    """``(role, assigned_at, expires_at)`` for each unexpired assignment the catalog still knows."""
    roles = catalog.by_ids(user.org_id, {assignment.role_id for assignment in user.roles})
    return [
        (roles[a.role_id], a.assigned_at, a.expires_at)
        for a in user.roles
        if a.role_id in roles and (a.expires_at is None or a.expires_at > now_iso)
    ]


def user_permissions(user: User, catalog: RoleCatalog, now_iso: str) -> dict[str, list[str]]:
    """Each permission the user holds, with the names of the roles granting it."""
    granted: dict[str, list[str]] = {}
    for role, _, _ in active_roles(user, catalog, now_iso):
        for permission in sorted(role.permissions):
            granted.setdefault(permission, []).append(role.name)
    return granted
