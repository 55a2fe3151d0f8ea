"""Webhook subscriptions, the events they are sent, and each event's deliveries, as the code
works with them (their stored items are the repositories' business: ``subscriptions``,
``event_store``, ``deliveries``)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

EventStatus = Literal["pending", "delivered", "failed", "acknowledged"]


class Webhook(NamedTuple):
    id: str
    org_id: str
    url: str
    events: tuple[str, ...]
    active: bool
    secret: str
    created_at: str
    updated_at: str
    description: str | None = None
    previous_secret: str | None = None
    previous_secret_until: str | None = None  # the previous secret signs too until then
    secret_rotated_at: str | None = None
    version: int = 1

    def __repr__(self) -> str:  # never the secrets
        return f"Webhook(id={self.id!r}, org_id={self.org_id!r}, url={self.url!r}, version={self.version!r})"

    def live_secrets(self, now_iso: str) -> list[str]:
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > now_iso:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def receives(self, event_type: str, only: str | None = None) -> bool:
        """Whether this subscription gets an event (a test event goes to ``only`` its subscription)."""
        return self.active and (self.id == only if only else event_type in self.events)


class DeliveryState(NamedTuple):
    """A delivery's state as its event holds it: the attempt that comes next, and how it stands
    (``pending``, ``delivered``, ``failed`` or ``cancelled``)."""

    next_attempt: int
    status: str


class StoredEvent(NamedTuple):
    """An outbox event with its delivery bookkeeping (docs/api.md §7). ``progress`` is ``None`` for
    an event fanned out before deliveries' state lived on the event (their items held it)."""

    org_id: str
    id: str
    type: str
    status: EventStatus
    created_at: str
    envelope: dict[str, Any]  # what receivers are posted, signed
    webhook_id: str | None = None  # a test event goes to this subscription only
    fanned_out: bool = False
    enqueued: bool = False  # every first attempt of its current generation is queued
    generation: str = ""
    progress: dict[str, DeliveryState] | None = None
    pending_deliveries: int = 1
    failed_deliveries: int = 0
    delivery_attempts: tuple[dict[str, Any], ...] = ()
    next_retry_at: str | None = None
    final_delivery_at: str | None = None


class Delivery(NamedTuple):
    """One event's delivery to one subscription: which attempt comes next, and how it ended."""

    org_id: str
    event_id: str
    webhook_id: str
    generation: str  # a redelivery starts a new generation; older messages are ignored
    status: str  # pending | delivered | failed | cancelled
    next_attempt: int
    scheduled_attempt: int  # the attempt whose message is known to be queued (crash recovery)
