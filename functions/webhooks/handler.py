"""Webhook subscriptions and the event status API (contract §7)."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.access.principal import Principal
from umapi.audit import RequestMeta
from umapi.dependencies import authenticate_event, current_request_meta, requires
from umapi.http import create_app, public_base_url
from umapi.idempotency import idempotent
from umapi.observability import logger, metrics, tracer
from umapi.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from umapi.services import webhook_service
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

Meta = Annotated[RequestMeta, Depends(current_request_meta)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]
EventTypeFilter = Literal[(*EVENT_TYPES, TEST_EVENT)]  # type: ignore[valid-type]
PRIVATE = {"Cache-Control": "private, no-cache"}
NO_STORE = {"Cache-Control": "no-store"}


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers or PRIVATE
    )


# ------------------------------------------------------------------------ events (before /webhooks/{id})
@app.get("/webhooks/events")
@tracer.capture_method
def list_events(
    caller: Annotated[Principal, Depends(requires("webhooks:read"))],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: Literal["pending", "delivered", "failed", "acknowledged"] | None = None,
    type: EventTypeFilter | None = None,
) -> Response[Page[EventResponse]]:
    return answer(webhook_service().list_events(caller, status, type, limit, cursor))


@app.get("/webhooks/events/<event_id>")
@tracer.capture_method
def get_event(
    event_id: str, caller: Annotated[Principal, Depends(requires("webhooks:read"))]
) -> Response[EventResponse]:
    return answer(webhook_service().get_event(caller, event_id))


@app.post("/webhooks/events/<event_id>/acknowledge")
@idempotent(app)
@tracer.capture_method
def acknowledge_event(
    event_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))]
) -> Response[EventResponse]:
    return answer(webhook_service().acknowledge(caller, event_id))


@app.post(
    "/webhooks/events/<event_id>/redeliver", status_code=202, response_description="Accepted: a new delivery started"
)
@idempotent(app)
@tracer.capture_method
def redeliver_event(
    event_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))]
) -> Response[EventResponse]:
    return answer(webhook_service().redeliver(caller, event_id), 202)


# ------------------------------------------------------------------------ subscriptions
@app.post("/webhooks", status_code=201, response_description="Created")
@idempotent(app)
@tracer.capture_method
def create_webhook(
    request: Annotated[CreateWebhookRequest, Body()],
    caller: Annotated[Principal, Depends(requires("webhooks:write"))],
    meta: Meta,
) -> Response[WebhookWithSecretResponse]:
    webhook = webhook_service().create(caller, request, meta)
    location = f"{public_base_url(app.current_event.raw_event)}/webhooks/{webhook.id}"
    return answer(webhook, 201, {**NO_STORE, "Location": location})


@app.get("/webhooks")
@tracer.capture_method
def list_webhooks(
    caller: Annotated[Principal, Depends(requires("webhooks:read"))],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response[Page[WebhookResponse]]:
    return answer(webhook_service().list_page(caller, limit, cursor))


@app.get("/webhooks/<webhook_id>")
@tracer.capture_method
def get_webhook(
    webhook_id: str, caller: Annotated[Principal, Depends(requires("webhooks:read"))]
) -> Response[WebhookResponse]:
    return answer(webhook_service().get(caller, webhook_id))


@app.patch("/webhooks/<webhook_id>")
@tracer.capture_method
def update_webhook(
    webhook_id: str,
    patch: Annotated[UpdateWebhookRequest, Body()],
    caller: Annotated[Principal, Depends(requires("webhooks:write"))],
    meta: Meta,
) -> Response[WebhookResponse]:
    return answer(webhook_service().update(caller, webhook_id, patch, meta))


@app.delete("/webhooks/<webhook_id>", status_code=204, response_description="Deleted")
@tracer.capture_method
def delete_webhook(
    webhook_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))], meta: Meta
) -> Response[None]:
    webhook_service().delete(caller, webhook_id, meta)
    return Response(status_code=204, body=None)


@app.post("/webhooks/<webhook_id>/rotate-secret")
@idempotent(app)
@tracer.capture_method
def rotate_webhook_secret(
    webhook_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))], meta: Meta
) -> Response[WebhookWithSecretResponse]:
    return answer(webhook_service().rotate_secret(caller, webhook_id, meta), headers=NO_STORE)


@app.post("/webhooks/<webhook_id>/test", status_code=202, response_description="Accepted: the test event is on its way")
@idempotent(app)
@tracer.capture_method
def test_webhook(
    webhook_id: str, caller: Annotated[Principal, Depends(requires("webhooks:write"))], meta: Meta
) -> Response[TestEventResponse]:
    return answer(webhook_service().send_test(caller, webhook_id, meta), 202)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
