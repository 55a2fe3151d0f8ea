"""Roles and role assignments: API request/response models (docs/api.md §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from umapi.access.permissions import PERMISSIONS
from umapi.api_model import ApiModel
from umapi.fields import NOT_BLANK, Omittable

if TYPE_CHECKING:
    from umapi.roles.entities import Role

RoleName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(json_schema_extra={"allOf": [NOT_BLANK]}),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def _permissions(value: list[str]) -> list[str]:
    unknown = sorted(set(value) - set(PERMISSIONS))
    if unknown:
        raise ValueError(f"unknown permission(s) {', '.join(unknown)}; use {', '.join(PERMISSIONS)}")
    return [name for name in PERMISSIONS if name in value]  # canonical order, no repeats


Permissions = Annotated[
    list[str],
    Field(max_length=len(PERMISSIONS) * 2, json_schema_extra={"items": {"type": "string", "enum": list(PERMISSIONS)}}),
    AfterValidator(_permissions),
]


class CreateRoleRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: RoleName
    description: Description | None = None
    permissions: Permissions


class UpdateRoleRequest(ApiModel):
    """JSON Merge Patch of a custom role: omitted fields stay; ``description: null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[RoleName] = None
    description: Description | None = None
    permissions: Omittable[Permissions] = None


class RoleResponse(ApiModel):
    id: str
    org_id: str
    name: str
    description: str | None
    permissions: list[str]
    system: bool
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, role: Role, org_id: str) -> RoleResponse:
        """``role`` as ``org_id`` sees it (a system role belongs to every organization)."""
        return cls(
            id=role.id,
            org_id=role.org_id or org_id,
            name=role.name,
            description=role.description,
            permissions=sorted(role.permissions),
            system=role.system,
            created_at=role.created_at,
            updated_at=role.updated_at,
        )


class RoleList(ApiModel):
    data: list[RoleResponse]
