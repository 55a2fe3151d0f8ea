"""Roles and role assignments: API request/response models (docs/api.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from umapi.access.permissions import PERMISSIONS
from umapi.fields import NOT_BLANK, Omittable
from umapi.roles.entities import Role
from umapi.time import parse_rfc3339, to_iso

RoleName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(json_schema_extra={"allOf": [NOT_BLANK]}),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
RoleRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ActorId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(usr|cli)_[0-9A-Za-z]{1,64}$")]


def _permissions(value: list[str]) -> list[str]:
    unknown = sorted(set(value) - set(PERMISSIONS))
    if unknown:
        raise ValueError(f"unknown permission(s) {', '.join(unknown)}; use {', '.join(PERMISSIONS)}")
    return [name for name in PERMISSIONS if name in value]  # canonical order, no repeats


def _future_instant(text: str) -> str:
    """An RFC 3339 instant in the future, as the API writes times (UTC, ms, ``Z``)."""
    value = parse_rfc3339(text)
    if value <= datetime.now(UTC):
        # Its own code: the document can say "a date-time", not "a date-time after now".
        raise PydanticCustomError("not_in_future", "must be in the future")
    return to_iso(value)


Permissions = Annotated[
    list[str],
    Field(max_length=len(PERMISSIONS) * 2, json_schema_extra={"items": {"type": "string", "enum": list(PERMISSIONS)}}),
    AfterValidator(_permissions),
]
ExpiresAt = Annotated[
    str,
    StringConstraints(max_length=40),
    Field(json_schema_extra={"format": "date-time"}),
    AfterValidator(_future_instant),
]


class CreateRoleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: RoleName
    description: Description | None = None
    permissions: Permissions


class UpdateRoleRequest(BaseModel):
    """JSON Merge Patch of a custom role: omitted fields stay; ``description: null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[RoleName] = None
    description: Description | None = None
    permissions: Omittable[Permissions] = None


class RoleResponse(BaseModel):
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


class RoleList(BaseModel):
    data: list[RoleResponse]
