"""Webhook subscriptions and the event status API (docs/api.md §7)."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.access.principal import Principal
from umapi.dependencies import authenticate_event, requires
from umapi.http import NO_STORE, create_app, created, json_response
from umapi.idempotency import idempotent
from umapi.observability import logger, metrics, tracer
from umapi.pagination import DEFAULT_LIMIT, Page
from umapi.routing import Cursor, Limit, Meta, Webhooks
from umapi.webhooks.models import (
    EVENT_TYPES,
    TEST_EVENT,
    CreateWebhookRequest,
    EventResponse,
    TestEventResponse,
    UpdateWebhookRequest,
    WebhookResponse,
    WebhookWithSecretResponse,
)

app = create_app(authenticate=authenticate_event)

EventTypeFilter = Literal[(*EVENT_TYPES, TEST_EVENT)]  # type: ignore[valid-type]


# ------------------------------------------------------------------------ events (before /webhooks/{id})
@app.get("/webhooks/events")
@tracer.capture_method
def list_events(
    caller: Annotated[Principal, Depends(requires("webhooks:read"))],
    webhooks: Webhooks,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: Literal["pending", "delivered", "failed", "acknowledged"] | None = None,
    type: EventTypeFilter | None = None,
) -> Response[Page[EventResponse]]:
    return json_response(webhooks.list_events(caller, status, type, limit, cursor))


@app.get("/webhooks/events/<event_id>")
@tracer.capture_method
def get_event(
    event_id: str, caller: Annotated[Principal, Depends(requires("webhooks:read"))], webhooks: Webhooks
) -> Response[EventResponse]:
    return json_response(webhooks.get_event(caller, event_id))


@app.post("/webhooks/events/<event_id>/acknowledge")
@idempotent(app)
@tracer.capture_method
def acknowledge_event(
    event_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))], webhooks: Webhooks
) -> Response[EventResponse]:
    return json_response(webhooks.acknowledge(caller, event_id))


@app.post(
    "/webhooks/events/<event_id>/redeliver", status_code=202, response_description="Accepted: a new delivery started"
)
@idempotent(app)
@tracer.capture_method
def redeliver_event(
    event_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))], webhooks: Webhooks
) -> Response[EventResponse]:
    return json_response(webhooks.redeliver(caller, event_id), 202)


# ------------------------------------------------------------------------ subscriptions
@app.post("/webhooks", status_code=201, response_description="Created")
@idempotent(app)
@tracer.capture_method
def create_webhook(
    request: Annotated[CreateWebhookRequest, Body()],
    caller: Annotated[Principal, Depends(requires("webhooks:write"))],
    meta: Meta,
    webhooks: Webhooks,
) -> Response[WebhookWithSecretResponse]:
    webhook = webhooks.create(caller, request, meta)
    return created(app.current_event.raw_event, webhook, f"/webhooks/{webhook.id}", NO_STORE)


@app.get("/webhooks")
@tracer.capture_method
def list_webhooks(
    caller: Annotated[Principal, Depends(requires("webhooks:read"))],
    webhooks: Webhooks,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Page[WebhookResponse]]:
    return json_response(webhooks.list_page(caller, limit, cursor))


@app.get("/webhooks/<webhook_id>")
@tracer.capture_method
def get_webhook(
    webhook_id: str, caller: Annotated[Principal, Depends(requires("webhooks:read"))], webhooks: Webhooks
) -> Response[WebhookResponse]:
    return json_response(webhooks.get(caller, webhook_id))


@app.patch("/webhooks/<webhook_id>")
@tracer.capture_method
def update_webhook(
    webhook_id: str,
    patch: Annotated[UpdateWebhookRequest, Body()],
    caller: Annotated[Principal, Depends(requires("webhooks:write"))],
    meta: Meta,
    webhooks: Webhooks,
) -> Response[WebhookResponse]:
    return json_response(webhooks.update(caller, webhook_id, patch, meta))


@app.delete("/webhooks/<webhook_id>", status_code=204, response_description="Deleted")
@tracer.capture_method
def delete_webhook(
    webhook_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))], meta: Meta, webhooks: Webhooks
) -> Response[None]:
    webhooks.delete(caller, webhook_id, meta)
    return Response(status_code=204, body=None)


@app.post("/webhooks/<webhook_id>/rotate-secret")
@idempotent(app)
@tracer.capture_method
def rotate_webhook_secret(
    webhook_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))], meta: Meta, webhooks: Webhooks
) -> Response[WebhookWithSecretResponse]:
    return json_response(webhooks.rotate_secret(caller, webhook_id, meta), headers=NO_STORE)


@app.post("/webhooks/<webhook_id>/test", status_code=202, response_description="Accepted: the test event is on its way")
@idempotent(app)
@tracer.capture_method
def test_webhook(
    webhook_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))], meta: Meta, webhooks: Webhooks
) -> Response[TestEventResponse]:
    return json_response(webhooks.send_test(caller, webhook_id, meta), 202)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
