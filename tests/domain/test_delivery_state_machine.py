"""The webhook delivery state machine's decisions, without DynamoDB, SQS or HTTP."""

from __future__ import annotations

import pytest

from umapi.webhooks.delivery import outcome_of, step
from umapi.webhooks.entities import Delivery, StoredEvent, Webhook
from umapi.webhooks.queue import DeliveryMessage

NOW = "2026-12-01T12:00:00.000Z"


def message(attempt: int = 1, generation: str = "g1") -> DeliveryMessage:
    return DeliveryMessage(
        org_id="org_1", event_id="evt_1", webhook_id="whk_1", attempt=attempt, generation=generation, not_before=0.0
    )


def delivery(status: str = "pending", next_attempt: int = 1, scheduled: int = 1, generation: str = "g1") -> Delivery:
    return Delivery("org_1", "evt_1", "whk_1", generation, status, next_attempt, scheduled)


def webhook(active: bool = True) -> Webhook:
    return Webhook("whk_1", "org_1", "https://8.8.8.8/in", ("user.created",), active, "whsec_x", NOW, NOW)


EVENT = StoredEvent("org_1", "evt_1", "user.created", "pending", NOW, {})


def test_a_due_attempt_is_posted() -> None:
    assert step(message(1), delivery(), EVENT, webhook()) == "post"


@pytest.mark.parametrize(
    ("found", "event"),
    [(None, EVENT), (delivery(), None), (delivery(generation="g2"), EVENT)],
    ids=["no delivery", "no event", "another generation"],
)
def test_stale_messages_are_dropped(found: Delivery | None, event: StoredEvent | None) -> None:
    assert step(message(1), found, event, webhook()) == "stale"


def test_a_recorded_attempt_whose_follow_up_never_queued_is_recovered() -> None:
    assert step(message(1), delivery(next_attempt=2, scheduled=1), EVENT, webhook()) == "recovered"


def test_a_repeated_message_is_a_duplicate() -> None:
    assert step(message(1), delivery(next_attempt=2, scheduled=2), EVENT, webhook()) == "duplicate"
    assert step(message(3), delivery(status="delivered", next_attempt=3, scheduled=3), EVENT, webhook()) == "duplicate"


def test_a_disabled_webhook_or_an_acknowledged_event_cancels() -> None:
    assert step(message(1), delivery(), EVENT, None) == "cancelled"
    assert step(message(1), delivery(), EVENT, webhook(active=False)) == "cancelled"
    assert step(message(1), delivery(), EVENT._replace(status="acknowledged"), webhook()) == "cancelled"


def test_outcomes_over_the_seven_attempts() -> None:
    assert outcome_of(True, 1, 7) == "delivered"
    assert [outcome_of(False, k, 7) for k in range(1, 8)] == ["pending"] * 6 + ["failed"]
