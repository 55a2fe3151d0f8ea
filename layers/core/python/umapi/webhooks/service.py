"""Webhook subscriptions and the event status API (docs/api.md §7)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from umapi.access.principal import Principal
from umapi.audit import AuditEntry, RequestMeta, field_changes
from umapi.errors import ConflictError, ErrorDetail, NotFoundError, ValidationError
from umapi.events import Event
from umapi.ids import new_id
from umapi.pagination import CursorCodec, Page
from umapi.safe_urls import UnsafeUrlError, check_subscription_url
from umapi.time import to_iso, utc_now_iso
from umapi.webhooks.deliveries import DeliveryRepository
from umapi.webhooks.entities import StoredEvent, Webhook
from umapi.webhooks.event_store import EventRepository
from umapi.webhooks.models import (
    TEST_EVENT,
    CreateWebhookRequest,
    EventResponse,
    TestEventResponse,
    UpdateWebhookRequest,
    WebhookResponse,
    WebhookWithSecretResponse,
)
from umapi.webhooks.queue import DeliveryMessage, DeliveryQueue
from umapi.webhooks.signing import new_secret
from umapi.webhooks.subscriptions import WebhookRepository

MAX_WEBHOOKS_PER_ORG = 25
ROTATION_OVERLAP = timedelta(hours=24)


# Subscribing to an event type needs the read permission of its data (docs/api.md §7): a
# webhook must not be a way to read what the caller could not read through the API.
DATA_PERMISSION_BY_PREFIX = {"user.": "users:read", "role.": "roles:read", "job.": "users:read"}


def data_permissions(event_types: Iterable[str]) -> set[str]:
    return {
        permission
        for event_type in event_types
        for prefix, permission in DATA_PERMISSION_BY_PREFIX.items()
        if event_type.startswith(prefix)
    }


def _require_data_access(principal: Principal, event_types: Iterable[str]) -> None:
    for permission in sorted(data_permissions(event_types)):
        principal.require(permission)


class WebhookService:
    def __init__(
        self,
        repository: WebhookRepository,
        events: EventRepository,
        deliveries: DeliveryRepository,
        cursors: CursorCodec,
        queue: DeliveryQueue,
        *,
        allow_loopback: bool,
    ) -> None:
        self._repository = repository
        self._events = events
        self._deliveries = deliveries
        self._cursors = cursors
        self._queue = queue
        self._allow_loopback = allow_loopback

    # ------------------------------------------------------------------ subscriptions
    def create(
        self, principal: Principal, request: CreateWebhookRequest, meta: RequestMeta
    ) -> WebhookWithSecretResponse:
        principal.require("webhooks:write")
        _require_data_access(principal, request.events)
        url = self._safe(request.url)
        if len(self._repository.all_of(principal.org_id)) >= MAX_WEBHOOKS_PER_ORG:
            raise ConflictError(f"An organization may have at most {MAX_WEBHOOKS_PER_ORG} webhooks.")
        now = utc_now_iso()
        webhook = Webhook(
            id=new_id("whk"),
            org_id=principal.org_id,
            url=url,
            events=tuple(request.events),
            active=request.active,
            secret=new_secret(),
            created_at=now,
            updated_at=now,
            description=request.description,
        )
        self._repository.create(webhook, self._entry(principal, meta, "webhook.created", webhook, _auditable(webhook)))
        return WebhookWithSecretResponse.of(webhook)

    def list_page(self, principal: Principal, limit: int, cursor: str | None) -> Page[WebhookResponse]:
        principal.require("webhooks:read")
        listing = f"webhooks:{principal.org_id}"
        start = self._cursors.decode(cursor, listing) if cursor else None
        webhooks, next_key = self._repository.list_page(principal.org_id, limit, start)
        return Page[WebhookResponse](
            data=[WebhookResponse.of(w) for w in webhooks], pagination=self._cursors.page_info(limit, next_key, listing)
        )

    def get(self, principal: Principal, webhook_id: str) -> WebhookResponse:
        principal.require("webhooks:read")
        return WebhookResponse.of(self._find(principal, webhook_id))

    def update(
        self, principal: Principal, webhook_id: str, patch: UpdateWebhookRequest, meta: RequestMeta
    ) -> WebhookResponse:
        principal.require("webhooks:write")
        webhook = self._find(principal, webhook_id)
        sent = patch.model_fields_set
        changes: dict[str, Any] = {}
        if "url" in sent and patch.url is not None:
            changes["url"] = self._safe(patch.url)
        if "events" in sent or "url" in sent:  # where the data goes, or which data: a new subscription
            _require_data_access(principal, patch.events or webhook.events)
        if "events" in sent and patch.events is not None:
            changes["events"] = tuple(patch.events)
        if "description" in sent:
            changes["description"] = patch.description
        if "active" in sent and patch.active is not None:
            changes["active"] = patch.active
        updated = webhook._replace(**changes, updated_at=utc_now_iso(), version=webhook.version + 1)
        diff = field_changes(_auditable(webhook), _auditable(updated))
        if not diff:
            return WebhookResponse.of(webhook)
        self._repository.update(webhook, updated, self._entry(principal, meta, "webhook.updated", updated, diff))
        return WebhookResponse.of(updated)

    def delete(self, principal: Principal, webhook_id: str, meta: RequestMeta) -> None:
        principal.require("webhooks:write")
        webhook = self._find(principal, webhook_id)
        self._repository.delete(webhook, self._entry(principal, meta, "webhook.deleted", webhook, {}))

    def rotate_secret(self, principal: Principal, webhook_id: str, meta: RequestMeta) -> WebhookWithSecretResponse:
        """A new secret; the previous one keeps signing (beside it) for 24 hours."""
        principal.require("webhooks:write")
        webhook = self._find(principal, webhook_id)
        now = datetime.now(UTC)
        rotated = webhook._replace(
            secret=new_secret(),
            previous_secret=webhook.secret,
            previous_secret_until=to_iso(now + ROTATION_OVERLAP),
            secret_rotated_at=to_iso(now),
            updated_at=to_iso(now),
            version=webhook.version + 1,
        )
        changes = {"secret": {"changed": True}, "previous_secret_until": rotated.previous_secret_until}
        self._repository.update(
            webhook, rotated, self._entry(principal, meta, "webhook.secret_rotated", rotated, changes)
        )
        return WebhookWithSecretResponse.of(rotated)

    def send_test(self, principal: Principal, webhook_id: str, meta: RequestMeta) -> TestEventResponse:
        """A ``webhook.test`` event for this subscription only, through the outbox like any other."""
        principal.require("webhooks:write")
        webhook = self._find(principal, webhook_id)
        event = Event.new(
            org_id=webhook.org_id,
            type=TEST_EVENT,
            data={"webhook_id": webhook.id, "message": "This is a test event."},
            meta=meta,
            actor_id=principal.subject,
            webhook_id=webhook.id,
        )
        self._events.put(event, self._entry(principal, meta, "webhook.tested", webhook, {"event_id": event.id}))
        return TestEventResponse(event_id=event.id, message="A webhook.test event is on its way.")

    # ------------------------------------------------------------------ events
    def list_events(
        self, principal: Principal, status: str | None, event_type: str | None, limit: int, cursor: str | None
    ) -> Page[EventResponse]:
        principal.require("webhooks:read")
        listing = f"events:{principal.org_id}:{status}:{event_type}"
        start = self._cursors.decode(cursor, listing) if cursor else None
        events, next_key = self._events.list_page(principal.org_id, status, event_type, limit, start)
        return Page[EventResponse](
            data=[EventResponse.of(event) for event in events],
            pagination=self._cursors.page_info(limit, next_key, listing),
        )

    def get_event(self, principal: Principal, event_id: str) -> EventResponse:
        principal.require("webhooks:read")
        return EventResponse.of(self._event(principal, event_id))

    def acknowledge(self, principal: Principal, event_id: str) -> EventResponse:
        """A pending or failed event becomes ``acknowledged`` (again: unchanged); delivered → 409."""
        principal.require("webhooks:write")
        self._event(principal, event_id)
        if not self._events.acknowledge(principal.org_id, event_id, utc_now_iso()):
            current = self._event(principal, event_id)
            if current.status != "acknowledged":
                raise ConflictError(
                    f"Event {event_id} is {current.status}; only pending or failed events can be acknowledged."
                )
        return EventResponse.of(self._event(principal, event_id))

    def redeliver(self, principal: Principal, event_id: str) -> EventResponse:
        """A new delivery of the event to every active subscription that wants it now."""
        principal.require("webhooks:write")
        event = self._event(principal, event_id)
        webhook_ids = [
            w.id for w in self._repository.all_of(principal.org_id) if w.receives(event.type, event.webhook_id)
        ]
        if not webhook_ids:
            raise ConflictError(f"No active webhook subscribes to {event.type}; nothing to deliver.")
        generation = new_id("gen")
        self._deliveries.start(principal.org_id, event_id, webhook_ids, generation, first=False)
        now = time.time()
        self._queue.send([DeliveryMessage(principal.org_id, event_id, w, generation, 1, now) for w in webhook_ids], now)
        self._events.mark_enqueued(principal.org_id, event_id)
        return EventResponse.of(self._event(principal, event_id))

    # ------------------------------------------------------------------ helpers
    def _safe(self, url: str) -> str:
        try:
            return check_subscription_url(url, allow_loopback=self._allow_loopback)
        except UnsafeUrlError as exc:
            raise ValidationError(
                f"The webhook URL is not allowed: it {exc}.", details=[ErrorDetail("url", str(exc), "unsafe_url")]
            ) from None

    def _find(self, principal: Principal, webhook_id: str) -> Webhook:
        webhook = self._repository.get(principal.org_id, webhook_id) if webhook_id.startswith("whk_") else None
        if webhook is None:
            raise NotFoundError(f"Webhook {webhook_id} not found.")
        return webhook

    def _event(self, principal: Principal, event_id: str) -> StoredEvent:
        event = self._events.get(principal.org_id, event_id) if event_id.startswith("evt_") else None
        if event is None:
            raise NotFoundError(f"Event {event_id} not found.")
        return event

    @staticmethod
    def _entry(
        principal: Principal, meta: RequestMeta, action: str, webhook: Webhook, changes: dict[str, Any]
    ) -> AuditEntry:
        return AuditEntry.new(webhook.org_id, principal.actor, action, "webhook", webhook.id, meta, changes)


def _auditable(webhook: Webhook) -> dict[str, Any]:
    return {
        "url": webhook.url,
        "events": list(webhook.events),
        "description": webhook.description,
        "active": webhook.active,
    }
