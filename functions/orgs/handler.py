"""Organizations, API clients (docs/api.md §6) and SSO connections (docs/api.md §12)."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.access.permissions import PLATFORM_ADMIN
from umapi.access.principal import Principal
from umapi.audit_log import AuditEntryResponse, AuditQuery
from umapi.clients.models import ClientResponse, ClientWithSecretResponse, CreateClientRequest, UpdateClientRequest
from umapi.dependencies import authenticate_event, requires
from umapi.http import NO_STORE, create_app, created, json_response
from umapi.idempotency import idempotent
from umapi.observability import logger, metrics, tracer
from umapi.orgs.models import CreateOrgRequest, OrgResponse
from umapi.pagination import DEFAULT_LIMIT, Page
from umapi.routing import AuditLog, Clients, Cursor, Instant, Limit, Meta, Orgs, SsoConnections
from umapi.sso.models import CreateSsoConnectionRequest, SsoConnectionResponse, UpdateSsoConnectionRequest

AuditPage = Page[AuditEntryResponse]
app = create_app(authenticate=authenticate_event)


# ------------------------------------------------------------------------ organizations
@app.post("/orgs", status_code=201, response_description="Created")
@idempotent(app)
@tracer.capture_method
def create_org(
    request: Annotated[CreateOrgRequest, Body()],
    caller: Annotated[Principal, Depends(requires(PLATFORM_ADMIN))],
    meta: Meta,
    orgs: Orgs,
) -> Response[OrgResponse]:
    org = orgs.create(caller, request, meta)
    return created(app.current_event.raw_event, org, f"/orgs/{org.id}", NO_STORE)


@app.get("/orgs")
@tracer.capture_method
def list_orgs(
    caller: Annotated[Principal, Depends(requires(PLATFORM_ADMIN))],
    orgs: Orgs,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Page[OrgResponse]]:
    return json_response(orgs.list_page(caller, limit, cursor))


@app.get("/orgs/<org_id>")
@tracer.capture_method
def get_org(org_id: str, caller: Annotated[Principal, Depends(requires())], orgs: Orgs) -> Response[OrgResponse]:
    return json_response(orgs.get(caller, org_id))


# ------------------------------------------------------------------------ clients
@app.post("/clients", status_code=201, response_description="Created")
@idempotent(app)
@tracer.capture_method
def create_client(
    request: Annotated[CreateClientRequest, Body()],
    caller: Annotated[Principal, Depends(requires("clients:write"))],
    meta: Meta,
    clients: Clients,
) -> Response[ClientWithSecretResponse]:
    client = clients.create(caller, request, meta)
    return created(app.current_event.raw_event, client, f"/clients/{client.id}", NO_STORE)


@app.get("/clients")
@tracer.capture_method
def list_clients(
    caller: Annotated[Principal, Depends(requires("clients:read"))],
    clients: Clients,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Page[ClientResponse]]:
    return json_response(clients.list_page(caller, limit, cursor))


# ------------------------------------------------------------------------ SSO connections
@app.post("/sso-connections", status_code=201, response_description="Created")
@idempotent(app)
@tracer.capture_method
def create_sso_connection(
    request: Annotated[CreateSsoConnectionRequest, Body()],
    caller: Annotated[Principal, Depends(requires("sso:write"))],
    meta: Meta,
    connections: SsoConnections,
) -> Response[SsoConnectionResponse]:
    connection = connections.create(caller, request, meta)
    return created(app.current_event.raw_event, connection, f"/sso-connections/{connection.id}", NO_STORE)


@app.get("/sso-connections")
@tracer.capture_method
def list_sso_connections(
    caller: Annotated[Principal, Depends(requires("sso:read"))],
    connections: SsoConnections,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Page[SsoConnectionResponse]]:
    return json_response(connections.list_page(caller, limit, cursor))


@app.get("/sso-connections/<connection_id>")
@tracer.capture_method
def get_sso_connection(
    connection_id: str, caller: Annotated[Principal, Depends(requires("sso:read"))], connections: SsoConnections
) -> Response[SsoConnectionResponse]:
    return json_response(connections.get(caller, connection_id))


@app.patch("/sso-connections/<connection_id>")
@tracer.capture_method
def update_sso_connection(
    connection_id: str,
    patch: Annotated[UpdateSsoConnectionRequest, Body()],
    caller: Annotated[Principal, Depends(requires("sso:write"))],
    meta: Meta,
    connections: SsoConnections,
) -> Response[SsoConnectionResponse]:
    return json_response(connections.update(caller, connection_id, patch, meta))


@app.delete("/sso-connections/<connection_id>", status_code=204, response_description="Deleted")
@tracer.capture_method
def delete_sso_connection(
    connection_id: str,
    caller: Annotated[Principal, Depends(requires("sso:write"))],
    meta: Meta,
    connections: SsoConnections,
) -> Response[None]:
    connections.delete(caller, connection_id, meta)
    return Response(status_code=204, body=None)


@app.get("/clients/<client_id>")
@tracer.capture_method
def get_client(
    client_id: str, caller: Annotated[Principal, Depends(requires("clients:read"))], clients: Clients
) -> Response[ClientResponse]:
    return json_response(clients.get(caller, client_id))


@app.patch("/clients/<client_id>")
@tracer.capture_method
def update_client(
    client_id: str,
    patch: Annotated[UpdateClientRequest, Body()],
    caller: Annotated[Principal, Depends(requires("clients:write"))],
    meta: Meta,
    clients: Clients,
) -> Response[ClientResponse]:
    return json_response(clients.update(caller, client_id, patch, meta))


@app.delete("/clients/<client_id>", status_code=204, response_description="Deleted")
@tracer.capture_method
def delete_client(
    client_id: str, caller: Annotated[Principal, Depends(requires("clients:write"))], meta: Meta, clients: Clients
) -> Response[None]:
    clients.delete(caller, client_id, meta)
    return Response(status_code=204, body=None)


@app.post("/clients/<client_id>/rotate-secret")
@idempotent(app)
@tracer.capture_method
def rotate_client_secret(
    client_id: str, caller: Annotated[Principal, Depends(requires("clients:write"))], meta: Meta, clients: Clients
) -> Response[ClientWithSecretResponse]:
    return json_response(clients.rotate_secret(caller, client_id, meta), headers=NO_STORE)


# ------------------------------------------------------------------------ audit log
@app.get(
    "/audit-log",
    responses={200: {"description": "A page of audit entries", "content": {"application/json": {"model": AuditPage}}}},
)
@tracer.capture_method
def list_audit_log(
    caller: Annotated[Principal, Depends(requires("audit:read"))],
    audit_log: AuditLog,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[Instant | None, Query(description="RFC 3339, e.g. 2026-11-23T12:00:00Z")] = None,
    until: Annotated[Instant | None, Query(description="RFC 3339, e.g. 2026-11-23T12:00:00Z")] = None,
) -> Response[Page[dict[str, Any]]]:
    query = AuditQuery(limit, cursor, actor_id, target_id, action, since, until)
    return json_response(audit_log.list_page(caller, query))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
