"""Webhook subscriptions and events: request/response models and entities (contract §7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from umapi.fields import UNIQUE_ITEMS, Omittable, no_repeats

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
EventStatus = Literal["pending", "delivered", "failed", "acknowledged"]
Url = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000),
    Field(json_schema_extra={"format": "uri", "pattern": r"^https?://[^\s/?#]+[^\s]*$"}),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(EVENT_TYPES), json_schema_extra=UNIQUE_ITEMS),
    AfterValidator(no_repeats),
]


class CreateWebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: EventTypes
    description: Description | None = None
    active: StrictBool = True


class UpdateWebhookRequest(BaseModel):
    """JSON Merge Patch: omitted fields stay; ``description: null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    url: Omittable[Url] = None
    events: Omittable[EventTypes] = None
    description: Description | None = None
    active: Omittable[StrictBool] = None


class WebhookResponse(BaseModel):
    id: str
    org_id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: str
    updated_at: str
    secret_rotated_at: str | None


class WebhookWithSecretResponse(WebhookResponse):
    secret: str = Field(description="Shown once: store it to verify signatures.")


class DeliveryAttempt(BaseModel):
    attempt: int
    webhook_id: str
    timestamp: str
    status_code: int | None = None
    response_time_ms: int
    error: str | None = None


class EventResponse(BaseModel):
    id: str
    type: str
    status: EventStatus
    created_at: str
    delivery_attempts: list[DeliveryAttempt]
    next_retry_at: str | None
    final_delivery_at: str | None


class TestEventResponse(BaseModel):
    event_id: str
    message: str


@dataclass(frozen=True)
class Webhook:
    id: str
    org_id: str
    url: str
    events: tuple[str, ...]
    active: bool
    secret: str
    created_at: str
    updated_at: str
    description: str | None = None
    previous_secret: str | None = field(default=None, repr=False)
    previous_secret_until: str | None = None  # the previous secret signs too until then
    secret_rotated_at: str | None = None
    version: int = 1

    def live_secrets(self, now_iso: str) -> list[str]:
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > now_iso:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def receives(self, event_type: str, only: str | None = None) -> bool:
        """Whether this subscription gets an event (a test event goes to ``only`` its subscription)."""
        return self.active and (self.id == only if only else event_type in self.events)

    def to_response(self) -> WebhookResponse:
        return WebhookResponse(
            id=self.id,
            org_id=self.org_id,
            url=self.url,
            events=list(self.events),
            description=self.description,
            active=self.active,
            created_at=self.created_at,
            updated_at=self.updated_at,
            secret_rotated_at=self.secret_rotated_at,
        )

    def with_secret(self) -> WebhookWithSecretResponse:
        return WebhookWithSecretResponse(**self.to_response().model_dump(), secret=self.secret)


def attempts_of(values: dict[str, Any]) -> list[DeliveryAttempt]:
    return [DeliveryAttempt.model_validate(a) for a in values.get("delivery_attempts") or []]
