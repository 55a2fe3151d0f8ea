"""Roles and role assignments (docs/api.md §5)."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.access.principal import Principal
from umapi.dependencies import authenticate_event, requires
from umapi.http import PRIVATE, create_app, created, json_response
from umapi.idempotency import idempotent
from umapi.observability import logger, metrics, tracer
from umapi.roles.models import CreateRoleRequest, RoleList, RoleResponse, UpdateRoleRequest
from umapi.routing import Assignments, Meta, Roles
from umapi.users.assignment_models import (
    AssignmentResponse,
    AssignRoleRequest,
    BulkRolesRequest,
    BulkRolesResponse,
    UserRoleList,
)

app = create_app(authenticate=authenticate_event)

# Roles change rarely; permissions are evaluated on every request regardless (docs/api.md §8).
CACHED = {"Cache-Control": "private, max-age=3600"}


# ------------------------------------------------------------------------ roles
@app.get("/roles")
@tracer.capture_method
def list_roles(caller: Annotated[Principal, Depends(requires("roles:read"))], roles: Roles) -> Response[RoleList]:
    return json_response(roles.list(caller), headers=CACHED)


@app.post("/roles", status_code=201, response_description="Created")
@idempotent(app)
@tracer.capture_method
def create_role(
    request: Annotated[CreateRoleRequest, Body()],
    caller: Annotated[Principal, Depends(requires("roles:write"))],
    meta: Meta,
    roles: Roles,
) -> Response[RoleResponse]:
    role = roles.create(caller, request, meta)
    return created(app.current_event.raw_event, role, f"/roles/{role.id}", PRIVATE)


@app.get("/roles/<role_id>")
@tracer.capture_method
def get_role(
    role_id: str, caller: Annotated[Principal, Depends(requires("roles:read"))], roles: Roles
) -> Response[RoleResponse]:
    return json_response(roles.get(caller, role_id), headers=CACHED)


@app.patch("/roles/<role_id>")
@tracer.capture_method
def update_role(
    role_id: str,
    patch: Annotated[UpdateRoleRequest, Body()],
    caller: Annotated[Principal, Depends(requires("roles:write"))],
    meta: Meta,
    roles: Roles,
) -> Response[RoleResponse]:
    return json_response(roles.update(caller, role_id, patch, meta))


@app.delete("/roles/<role_id>", status_code=204, response_description="Deleted")
@tracer.capture_method
def delete_role(
    role_id: str, caller: Annotated[Principal, Depends(requires("roles:write"))], meta: Meta, roles: Roles
) -> Response[None]:
    roles.delete(caller, role_id, meta)
    return Response(status_code=204, body=None)


# ------------------------------------------------------------------------ assignments
@app.post("/users/bulk/roles")
@idempotent(app)
@tracer.capture_method
def bulk_roles(
    request: Annotated[BulkRolesRequest, Body()],
    caller: Annotated[Principal, Depends(requires("users:update"))],
    meta: Meta,
    assignments: Assignments,
) -> Response[BulkRolesResponse]:
    result = assignments.bulk(caller, request, meta)
    metrics.add_metric(name="BulkRoleChanges", unit="Count", value=result.successful)
    return json_response(result)


@app.put("/users/bulk/roles")
@tracer.capture_method
def bulk_roles_put(
    request: Annotated[BulkRolesRequest, Body()],
    caller: Annotated[Principal, Depends(requires("users:update"))],
    meta: Meta,
    assignments: Assignments,
) -> Response[BulkRolesResponse]:
    """``PUT`` is an alias of ``POST`` for clients of the v2 reference."""
    return json_response(assignments.bulk(caller, request, meta))


@app.get("/users/<user_id>/roles")
@tracer.capture_method
def list_user_roles(
    user_id: str,
    caller: Annotated[Principal, Depends(requires("users:read", unless_self="user_id"))],
    assignments: Assignments,
) -> Response[UserRoleList]:
    return json_response(assignments.list(caller, user_id))


@app.post("/users/<user_id>/roles", status_code=201, response_description="Assigned")
@idempotent(app)
@tracer.capture_method
def assign_role(
    user_id: str,
    request: Annotated[AssignRoleRequest, Body()],
    caller: Annotated[Principal, Depends(requires("users:update"))],
    meta: Meta,
    assignments: Assignments,
) -> Response[AssignmentResponse]:
    return json_response(assignments.assign(caller, user_id, request, meta), 201)


@app.delete("/users/<user_id>/roles/<role_id>", status_code=204, response_description="Removed")
@tracer.capture_method
def remove_role(
    user_id: str,
    role_id: str,
    caller: Annotated[Principal, Depends(requires("users:update"))],
    meta: Meta,
    assignments: Assignments,
) -> Response[None]:
    assignments.remove(caller, user_id, role_id, meta)
    return Response(status_code=204, body=None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
