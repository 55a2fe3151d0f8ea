"""What a user's role assignments grant: the ones still in force at an instant, the roles they
name, the permissions those roles give. Assignments live on the user (``User.roles``); role
definitions come from ``roles.catalog``."""

from __future__ import annotations

from umapi.roles.catalog import RoleCatalog
from umapi.roles.entities import Role, is_custom_role_id
from umapi.users.entities import RoleAssignment, User


def unexpired(user: User, now_iso: str) -> list[RoleAssignment]:
    """The user's assignments that still grant something at ``now_iso``."""
    return [a for a in user.roles if a.expires_at is None or a.expires_at > now_iso]


def active_roles(user: User, catalog: RoleCatalog, now_iso: str) -> list[tuple[Role, RoleAssignment]]:
    """``(role, assignment)`` for each unexpired assignment of a role that still exists."""
    assignments = unexpired(user, now_iso)
    if not assignments:
        return []
    roles = catalog.by_ids(user.org_id, {a.role_id for a in assignments})
    return [(roles[a.role_id], a) for a in assignments if a.role_id in roles]


def user_permissions(user: User, catalog: RoleCatalog, now_iso: str) -> dict[str, list[str]]:
    """Each permission the user holds, with the names of the roles granting it."""
    granted: dict[str, list[str]] = {}
    for role, _ in active_roles(user, catalog, now_iso):
        for permission in sorted(role.permissions):
            granted.setdefault(permission, []).append(role.name)
    return granted


def custom_holdings(user: User | None, now_iso: str) -> dict[str, str | None]:
    """The custom roles ``user`` holds unexpired, with their ends (archived users hold none)."""
    if user is None or user.status == "archived":
        return {}
    return {a.role_id: a.expires_at for a in unexpired(user, now_iso) if is_custom_role_id(a.role_id)}
