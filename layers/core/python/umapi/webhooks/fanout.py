"""Stream → queue: each new outbox event becomes one delivery per matching subscription.

Idempotent against a redelivered stream batch: the event is fanned out by a transaction that
requires it not to be fanned out yet, and its messages are queued before the event is marked
``enqueued``. A batch replayed after a crash finds the event fanned out and either done
(``enqueued``: nothing to do) or not (the deliveries still waiting for their first message get
it again; a duplicate first message is harmless, the delivery's lease and claim admit one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from umapi.ids import new_id
from umapi.webhooks.deliveries import DeliveryRepository
from umapi.webhooks.entities import Webhook
from umapi.webhooks.event_store import EventRepository, event_from_item
from umapi.webhooks.queue import DeliveryMessage, DeliveryQueue
from umapi.webhooks.subscriptions import WebhookRepository


def outbox_event(record: dict[str, Any]) -> dict[str, Any] | None:
    """The new event's item in a stream record, or ``None`` for every other change of the table."""
    if record.get("eventName") != "INSERT":
        return None
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if image.get("entity", {}).get("S") != "event":
        return None
    return dict(image)


class FanOut:
    def __init__(
        self,
        webhooks: WebhookRepository,
        events: EventRepository,
        deliveries: DeliveryRepository,
        queue: DeliveryQueue,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._webhooks = webhooks
        self._events = events
        self._deliveries = deliveries
        self._queue = queue
        self._clock = clock
        self._subscriptions: dict[str, list[Webhook]] = {}  # per batch

    def new_batch(self) -> None:
        self._subscriptions.clear()

    def handle(self, record: dict[str, Any]) -> int:
        """Fans one stream record out; returns how many deliveries it queued."""
        item = outbox_event(record)
        if item is None:
            return 0
        event = event_from_item(item)
        org_id, event_id = event.org_id, event.id
        if org_id not in self._subscriptions:
            self._subscriptions[org_id] = self._webhooks.all_of(org_id)
        matching = [w.id for w in self._subscriptions[org_id] if w.receives(event.type, event.webhook_id)]
        generation = new_id("gen")
        if self._deliveries.start(org_id, event_id, matching, generation, first=True):
            waiting = [(webhook_id, generation) for webhook_id in matching]
        else:
            current = self._events.get(org_id, event_id)
            if current is None or current.enqueued:
                return 0
            waiting = [
                (d.webhook_id, d.generation)
                for d in self._deliveries.of(current)
                if d.status == "pending" and d.next_attempt == 1 and d.scheduled_attempt == 0
            ]
        now = self._clock()
        messages = [DeliveryMessage(org_id, event_id, w, g, 1, now) for w, g in waiting]
        if messages:
            self._queue.send(messages, now)
        self._events.mark_enqueued(org_id, event_id)
        return len(messages)
