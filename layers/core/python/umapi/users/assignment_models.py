"""What ``/users/{id}/roles`` and ``/users/bulk/roles`` take and answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from umapi.api_model import ApiModel
from umapi.fields import UNIQUE_ITEMS, no_repeats
from umapi.roles.fields import ActorId, ExpiresAt, RoleRef


class AssignRoleRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    role_id: RoleRef
    expires_at: ExpiresAt | None = None
    assigned_by: ActorId | None = None


class AssignmentResponse(ApiModel):
    user_id: str
    role_id: str
    role_name: str
    assigned_at: str
    expires_at: str | None
    assigned_by: str | None


class UserRoleEntry(ApiModel):
    role_id: str
    role_name: str
    assigned_at: str
    expires_at: str | None
    permissions: list[str]


class UserRoleList(ApiModel):
    data: list[UserRoleEntry]


UserId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class BulkRolesRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: Annotated[
        list[UserId], Field(min_length=1, max_length=100, json_schema_extra=UNIQUE_ITEMS), AfterValidator(no_repeats)
    ]
    role_id: RoleRef
    action: Literal["assign", "remove"]
    expires_at: ExpiresAt | None = None


class BulkRoleSuccess(ApiModel):
    user_id: str
    status: Literal["success"]
    message: str


class BulkRoleError(ApiModel):
    code: str
    message: str


class BulkRoleFailure(ApiModel):
    user_id: str
    status: Literal["error"]
    error: BulkRoleError


class BulkRolesResponse(ApiModel):
    processed: int
    successful: int
    failed: int
    results: list[Annotated[BulkRoleSuccess | BulkRoleFailure, Field(discriminator="status")]]
