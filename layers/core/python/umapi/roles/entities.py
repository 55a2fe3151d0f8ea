"""Roles: the domain entity and the fixed system roles (docs/api.md §2, §5)."""

from __future__ import annotations

from typing import NamedTuple

from umapi.access.permissions import SYSTEM_ROLE_PERMISSIONS

ADMIN_ROLE_ID = "role_admin"


class Role(NamedTuple):
    id: str
    name: str
    permissions: frozenset[str]
    system: bool = True
    org_id: str | None = None
    description: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    version: int = 1


SYSTEM_ROLES: dict[str, Role] = {
    f"role_{name}": Role(id=f"role_{name}", name=name, permissions=permissions, description=f"System role: {name}.")
    for name, permissions in SYSTEM_ROLE_PERMISSIONS.items()
}


def system_role(ref: str) -> Role | None:
    """The system role named or identified by ``ref`` (``admin`` or ``role_admin``)."""
    return SYSTEM_ROLES.get(ref) or SYSTEM_ROLES.get(f"role_{ref}")


def is_custom_role_id(role_id: str) -> bool:
    return role_id.startswith("role_") and role_id not in SYSTEM_ROLES
