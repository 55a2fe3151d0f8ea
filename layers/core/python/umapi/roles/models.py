"""Roles and role assignments: API request/response models (contract §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from umapi.access.permissions import PERMISSIONS
from umapi.time import to_iso

RoleName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
RoleRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ActorId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(usr|cli)_[0-9A-Za-z]{1,64}$")]


def _permissions(value: list[str]) -> list[str]:
    unknown = sorted(set(value) - set(PERMISSIONS))
    if unknown:
        raise ValueError(f"unknown permission(s) {', '.join(unknown)}; use {', '.join(PERMISSIONS)}")
    return [name for name in PERMISSIONS if name in value]  # canonical order, no repeats


def _future_instant(text: str) -> str:
    """An RFC 3339 instant with an offset, in the future, as the API writes times (UTC, ms, ``Z``)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z") from None
    if value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2030-01-31T12:00:00Z")
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return to_iso(value)


Permissions = Annotated[
    list[str],
    Field(max_length=len(PERMISSIONS) * 2, json_schema_extra={"items": {"type": "string", "enum": list(PERMISSIONS)}}),
    AfterValidator(_permissions),
]
ExpiresAt = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(_future_instant)]


class CreateRoleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: RoleName
    description: Description | None = None
    permissions: Permissions


class UpdateRoleRequest(BaseModel):
    """JSON Merge Patch of a custom role: omitted fields stay; ``description: null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    name: RoleName | None = None
    description: Description | None = None
    permissions: Permissions | None = None


class RoleResponse(BaseModel):
    id: str
    org_id: str
    name: str
    description: str | None
    permissions: list[str]
    system: bool
    created_at: str | None
    updated_at: str | None


class RoleList(BaseModel):
    data: list[RoleResponse]


class AssignRoleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role_id: RoleRef
    expires_at: ExpiresAt | None = None
    assigned_by: ActorId | None = None


class AssignmentResponse(BaseModel):
    user_id: str
    role_id: str
    role_name: str
    assigned_at: str
    expires_at: str | None
    assigned_by: str | None


class UserRoleEntry(BaseModel):
    role_id: str
    role_name: str
    assigned_at: str
    expires_at: str | None
    permissions: list[str]


class UserRoleList(BaseModel):
    data: list[UserRoleEntry]


UserId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def _unique(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("must not repeat a user id")
    return value


class BulkRolesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: Annotated[list[UserId], Field(min_length=1, max_length=100), AfterValidator(_unique)]
    role_id: RoleRef
    action: Literal["assign", "remove"]
    expires_at: ExpiresAt | None = None


class BulkRoleSuccess(BaseModel):
    user_id: str
    status: Literal["success"]
    message: str


class BulkRoleError(BaseModel):
    code: str
    message: str


class BulkRoleFailure(BaseModel):
    user_id: str
    status: Literal["error"]
    error: BulkRoleError


class BulkRolesResponse(BaseModel):
    processed: int
    successful: int
    failed: int
    results: list[Annotated[BulkRoleSuccess | BulkRoleFailure, Field(discriminator="status")]]
