"""Webhook subscriptions and events: what the API takes and answers (docs/api.md §7); each answer is
built from its entity by the response model's ``of``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints

from umapi.api_model import ApiModel
from umapi.fields import UNIQUE_ITEMS, Omittable, Url, no_repeats
from umapi.webhooks.entities import EventStatus

if TYPE_CHECKING:
    from umapi.webhooks.entities import StoredEvent, Webhook

EVENT_TYPES = (
    "user.created",
    "user.updated",
    "user.activated",
    "user.deactivated",
    "user.deleted",
    "user.login",
    "user.password_changed",
    "role.assigned",
    "role.removed",
    "job.completed",
    "job.failed",
)
TEST_EVENT = "webhook.test"  # sent by POST /webhooks/{id}/test to that subscription only

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(EVENT_TYPES), json_schema_extra=UNIQUE_ITEMS),
    AfterValidator(no_repeats),
]


class CreateWebhookRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: EventTypes
    description: Description | None = None
    active: StrictBool = True


class UpdateWebhookRequest(ApiModel):
    """JSON Merge Patch: omitted fields stay; ``description: null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    url: Omittable[Url] = None
    events: Omittable[EventTypes] = None
    description: Description | None = None
    active: Omittable[StrictBool] = None


class WebhookResponse(ApiModel):
    id: str
    org_id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: str
    updated_at: str
    secret_rotated_at: str | None

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookResponse:
        return cls(
            id=webhook.id,
            org_id=webhook.org_id,
            url=webhook.url,
            events=list(webhook.events),
            description=webhook.description,
            active=webhook.active,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
            secret_rotated_at=webhook.secret_rotated_at,
        )


class WebhookWithSecretResponse(WebhookResponse):
    secret: str = Field(description="Shown once: store it to verify signatures.")

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookWithSecretResponse:
        return cls(**WebhookResponse.of(webhook).model_dump(), secret=webhook.secret)


class DeliveryAttempt(ApiModel):
    attempt: int
    webhook_id: str
    timestamp: str
    status_code: int | None = None
    response_time_ms: int
    error: str | None = None


class EventResponse(ApiModel):
    id: str
    type: str
    status: EventStatus
    created_at: str
    delivery_attempts: list[DeliveryAttempt]
    next_retry_at: str | None
    final_delivery_at: str | None

    @classmethod
    def of(cls, event: StoredEvent) -> EventResponse:
        return cls(
            id=event.id,
            type=event.type,
            status=event.status,
            created_at=event.created_at,
            delivery_attempts=[DeliveryAttempt.model_validate(a) for a in event.delivery_attempts],
            next_retry_at=event.next_retry_at,
            final_delivery_at=event.final_delivery_at,
        )


class TestEventResponse(ApiModel):
    event_id: str
    message: str
