"""Queue → receiver: one attempt of one delivery per message (docs/api.md §7).

For a message of attempt ``k``:
1. early (``not_before`` ahead): back on the queue with the remaining delay (a hop);
2. stale (another generation) or a duplicate (attempt ``k`` done): dropped; if attempt ``k``
   was recorded but its follow-up message never queued (a crash in between), it is queued now;
3. otherwise the attempt is leased (a duplicate message arriving meanwhile does not post
   again), posted, and recorded on its event by one conditional update; then the
   next attempt is queued after its delay, or, after the last failure, the message goes to the
   dead-letter queue and the delivery is ``failed``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from umapi.errors import RetryLaterError
from umapi.time import to_iso
from umapi.webhooks.deliveries import DeliveryRepository
from umapi.webhooks.entities import Delivery, StoredEvent, Webhook
from umapi.webhooks.event_store import EventRepository
from umapi.webhooks.queue import DeliveryMessage, DeliveryQueue
from umapi.webhooks.sender import PostResult, post
from umapi.webhooks.signing import signature_headers

Poster = Callable[..., PostResult]


class AttemptInFlightError(RetryLaterError):
    """A duplicate message met the attempt while another copy holds its lease."""


def iso(moment: float) -> str:
    return to_iso(datetime.fromtimestamp(moment, UTC))


def step(
    message: DeliveryMessage, delivery: Delivery | None, event: StoredEvent | None, webhook: Webhook | None
) -> str:
    """The delivery state machine's decision for a message of attempt ``k`` that is due, without
    any I/O: ``stale`` (gone, or another generation), ``recovered`` (attempt ``k`` was recorded
    but its follow-up never queued), ``duplicate`` (attempt ``k`` is done), ``cancelled`` (the
    webhook went away or the event was acknowledged) or ``post``."""
    k = message.attempt
    if delivery is None or event is None or delivery.generation != message.generation:
        return "stale"
    if delivery.next_attempt == k + 1 and delivery.scheduled_attempt < k + 1:
        return "recovered"
    if delivery.status != "pending" or delivery.next_attempt != k:
        return "duplicate"
    if webhook is None or not webhook.active or event.status == "acknowledged":
        return "cancelled"
    return "post"


def outcome_of(delivered: bool, attempt: int, attempts: int) -> str:
    """After attempt ``attempt`` of ``attempts``: ``delivered``, ``pending`` (another follows) or ``failed``."""
    if delivered:
        return "delivered"
    return "failed" if attempt >= attempts else "pending"


class Deliverer:
    def __init__(
        self,
        deliveries: DeliveryRepository,
        events: EventRepository,
        queue: DeliveryQueue,
        delays: tuple[int, ...],
        *,
        allow_loopback: bool,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        poster: Poster = post,
    ) -> None:
        self._deliveries = deliveries
        self._events = events
        self._queue = queue
        self._delays = delays
        self._allow_loopback = allow_loopback
        self._timeout = timeout
        self._clock = clock
        self._post = poster

    def handle(self, message: DeliveryMessage) -> str:
        """Runs the message's attempt; returns what happened (for logs and metrics)."""
        now = self._clock()
        if message.not_before - now > 1:
            self._queue.send([message], now)
            return "hop"
        delivery, event, webhook = self._deliveries.load(message.org_id, message.event_id, message.webhook_id)
        k = message.attempt
        decision = step(message, delivery, event, webhook)
        if decision in ("stale", "duplicate") or delivery is None or event is None:
            return decision
        if decision == "recovered":
            self._events.finish_if_done(event, iso(now))  # in case the crash came before it
            self._follow_up(delivery, message, delivery.status, now)
            return "recovered"
        if decision == "cancelled" or webhook is None:
            why = "the event was acknowledged" if webhook and webhook.active else "the webhook was deleted or disabled"
            attempt = self._attempt(k, message.webhook_id, now, PostResult(None, 0, f"cancelled: {why}"))
            self._deliveries.record_attempt(delivery, attempt, "cancelled", None, iso(now))
            return "cancelled"
        if not self._deliveries.lease(delivery, now, self._timeout + 15):
            # Another copy of this message is posting the attempt now; come back after the
            # visibility timeout, when it is recorded (and this copy is dropped) or abandoned.
            raise AttemptInFlightError(f"attempt {k} of {message.event_id} to {message.webhook_id} is in flight")
        body = json.dumps(event.envelope, separators=(",", ":"), ensure_ascii=False).encode()
        headers = signature_headers(body, message.event_id, int(now), webhook.live_secrets(iso(now)))
        result = self._post(webhook.url, body, headers, timeout=self._timeout, allow_loopback=self._allow_loopback)
        outcome = outcome_of(result.ok, k, len(self._delays))
        retry_at = iso(self._clock() + self._delays[k]) if outcome == "pending" else None
        attempt = self._attempt(k, message.webhook_id, now, result)
        if not self._deliveries.record_attempt(delivery, attempt, outcome, retry_at, iso(self._clock())):
            return "duplicate"
        self._follow_up(delivery._replace(next_attempt=k + 1), message, outcome, self._clock())
        return outcome

    def _follow_up(self, delivery: Delivery, message: DeliveryMessage, outcome: str, now: float) -> None:
        k = message.attempt
        if outcome == "pending":
            self._queue.send([message._replace(attempt=k + 1, not_before=now + self._delays[k])], now)
        elif outcome == "failed":
            self._queue.send_dead(message)
        else:
            return
        self._deliveries.mark_scheduled(delivery, k + 1)

    @staticmethod
    def _attempt(k: int, webhook_id: str, now: float, result: PostResult) -> dict[str, Any]:
        attempt: dict[str, Any] = {
            "attempt": k,
            "webhook_id": webhook_id,
            "timestamp": iso(now),
            "status_code": result.status_code,
            "response_time_ms": result.response_time_ms,
        }
        if result.error:
            attempt["error"] = result.error
        return attempt
