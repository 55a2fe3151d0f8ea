"""Webhooks through their functions: subscriptions, SSRF refusals, fan-out, signed delivery with
retries, the event status API, and failures injected midway (docs/api.md §7)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook as StandardWebhook

from tests.support.api import InProcessApi
from tests.support.backend import FakeLambdaContext
from tests.support.users import Tenant, new_tenant
from tests.support.webhooks import Pump, Received, receiver
from umapi import services
from umapi.bootstrap import AdminCredentials
from umapi.errors import ServiceUnavailableError
from umapi.settings import get_settings

WEBHOOK_FIELDS = {
    "id",
    "org_id",
    "url",
    "events",
    "description",
    "active",
    "created_at",
    "updated_at",
    "secret_rotated_at",
}


def configure(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    services.reset()


@pytest.fixture
def acme(api: InProcessApi, platform: AdminCredentials, monkeypatch: pytest.MonkeyPatch) -> Tenant:
    configure(monkeypatch, WEBHOOK_ALLOW_LOOPBACK="true", WEBHOOK_RETRY_DELAYS="0,0,0")
    return new_tenant(api, platform, "Acme")


@pytest.fixture
def pump(acme: Tenant, lambda_context: FakeLambdaContext) -> Pump:
    return Pump(lambda_context)


def subscribe(tenant: Tenant, url: str, events: list[str] | None = None, **body: Any) -> dict[str, Any]:
    response = tenant.api.post(
        "/webhooks", token=tenant.access, json_body={"url": url, "events": events or ["user.created"], **body}
    )
    assert response.status == 201, response.body
    return dict(response.json())


def event(tenant: Tenant, event_id: str) -> dict[str, Any]:
    response = tenant.api.get(f"/webhooks/events/{event_id}", token=tenant.access)
    assert response.status == 200, response.body
    return dict(response.json())


def fail_once(monkeypatch: pytest.MonkeyPatch, owner: type, name: str, error: Exception) -> None:
    """``owner.name`` raises ``error`` the first time it is called, then works as before."""
    real = getattr(owner, name)
    errors = [error]

    def once(self: Any, *args: Any) -> Any:
        if errors:
            raise errors.pop()
        return real(self, *args)

    monkeypatch.setattr(owner, name, once)


def verify_signatures(delivery: Received, secret: str) -> None:
    expected = "sha256=" + hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, delivery.headers["x-webhook-signature"].split(" ")[0])
    StandardWebhook(secret).verify(delivery.body, delivery.headers)  # raises if wrong or stale


# --------------------------------------------------------------------------- subscriptions
def test_a_subscription_shows_its_secret_once(acme: Tenant) -> None:
    response = acme.api.post(
        "/webhooks",
        token=acme.access,
        json_body={"url": "https://hooks.example.com/in", "events": ["user.created", "role.assigned"]},
    )
    assert response.status == 201, response.body
    created = response.json()
    assert set(created) == WEBHOOK_FIELDS | {"secret"}
    assert created["secret"].startswith("whsec_")
    assert created["id"].startswith("whk_")
    assert created["active"] is True
    assert response.header("Cache-Control") == "no-store"
    assert response.header("Location").endswith(f"/webhooks/{created['id']}")  # type: ignore[union-attr]

    shown = acme.api.get(f"/webhooks/{created['id']}", token=acme.access).json()
    assert set(shown) == WEBHOOK_FIELDS
    listed = acme.api.get("/webhooks", token=acme.access).json()
    assert [w["id"] for w in listed["data"]] == [created["id"]]
    assert "secret" not in listed["data"][0]

    patched = acme.api.patch(
        f"/webhooks/{created['id']}", token=acme.access, json_body={"active": False, "description": "paused"}
    )
    assert patched.status == 200
    assert (patched.json()["active"], patched.json()["description"]) == (False, "paused")
    rotated = acme.api.post(f"/webhooks/{created['id']}/rotate-secret", token=acme.access).json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    assert rotated["secret_rotated_at"]
    assert acme.api.delete(f"/webhooks/{created['id']}", token=acme.access).status == 204
    assert acme.api.get(f"/webhooks/{created['id']}", token=acme.access).status == 404
    actions = [e["action"] for e in acme.api.get("/audit-log", token=acme.access).json()["data"]][:4]
    assert actions == ["webhook.deleted", "webhook.secret_rotated", "webhook.updated", "webhook.created"]
    assert created["secret"] not in json.dumps(acme.api.get("/audit-log", token=acme.access).json())


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://hooks.example.com/in", "events": []},
        {"url": "https://hooks.example.com/in", "events": ["user.exploded"]},
        {"url": "https://hooks.example.com/in", "events": ["user.created", "user.created"]},
        {"events": ["user.created"]},
        {"url": "https://hooks.example.com/in", "events": ["user.created"], "secret": "mine"},
        {"url": "ftp://hooks.example.com/in", "events": ["user.created"]},
    ],
)
def test_bad_subscriptions_are_refused(acme: Tenant, body: dict[str, Any]) -> None:
    response = acme.api.post("/webhooks", token=acme.access, json_body=body)
    assert response.status == 400, response.body
    assert response.error["code"] == "validation_error"


SSRF_URLS = [
    "https://127.0.0.1/hook",
    "https://127.1/hook",
    "https://2130706433/hook",
    "https://017700000001/hook",
    "https://0177.0.0.1/hook",
    "https://0x7f.0.0.1/hook",
    "https://0x7f000001/hook",
    "https://10.0.0.8/hook",
    "https://172.16.0.1/hook",
    "https://172.31.255.254/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://0.0.0.0/hook",
    "https://0/hook",
    "https://[::1]/hook",
    "https://[::]/hook",
    "https://[fc00::1]/hook",
    "https://[fd12:3456::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://localhost/hook",
    "https://metadata.google.internal/computeMetadata/v1/",
    "http://hooks.example.com/hook",
    "https://user:pass@hooks.example.com/hook",
]


@pytest.mark.parametrize("url", SSRF_URLS)
def test_private_and_internal_addresses_are_refused_in_every_spelling(
    acme: Tenant, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    configure(monkeypatch, WEBHOOK_ALLOW_LOOPBACK="false")
    response = acme.api.post("/webhooks", token=acme.access, json_body={"url": url, "events": ["user.created"]})
    assert response.status == 400, url
    assert response.error["details"][0]["field"] == "url"
    assert response.error["details"][0]["code"] == "unsafe_url"


@pytest.mark.parametrize("url", ["http://0.0.0.0:8080/hook", "http://10.1.2.3/hook", "http://2130706433/hook"])
def test_allowing_loopback_lets_nothing_else_through(acme: Tenant, url: str) -> None:
    assert (
        acme.api.post("/webhooks", token=acme.access, json_body={"url": url, "events": ["user.created"]}).status == 400
    )


def test_loopback_receivers_are_allowed_only_when_the_setting_says_so(
    acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in ("http://127.0.0.1:8080/hook", "http://localhost:8080/hook", "http://[::1]:8080/hook"):
        subscribe(acme, url)
    configure(monkeypatch, WEBHOOK_ALLOW_LOOPBACK="false")
    refused = acme.api.post(
        "/webhooks", token=acme.access, json_body={"url": "http://127.0.0.1/h", "events": ["user.created"]}
    )
    assert refused.status == 400


def test_webhooks_belong_to_their_organization_and_need_permissions(
    acme: Tenant, api: InProcessApi, platform: AdminCredentials
) -> None:
    from tests.support.flows import admin_token, new_client, token

    other = new_tenant(api, platform, "Globex")
    theirs = subscribe(other, "https://hooks.example.com/globex")
    for method in ("GET", "PATCH", "DELETE"):
        response = acme.api.request(
            method, f"/webhooks/{theirs['id']}", token=acme.access, json_body={} if method == "PATCH" else None
        )
        assert response.status == 404, method
    assert acme.api.post(f"/webhooks/{theirs['id']}/rotate-secret", token=acme.access).status == 404
    reader = new_client(api, admin_token(api, platform), acme.org_id, ["webhooks:read"])
    reader_token = token(api, reader.client_id, reader.client_secret)
    assert api.get("/webhooks", token=reader_token).status == 200
    refused = api.post(
        "/webhooks", token=reader_token, json_body={"url": "https://a.example.com", "events": ["user.created"]}
    )
    assert refused.status == 403
    assert refused.error["required_permission"] == "webhooks:write"


# --------------------------------------------------------------------------- delivery
def test_a_change_reaches_the_receiver_signed_both_ways(acme: Tenant, pump: Pump) -> None:
    with receiver() as hook:
        webhook = subscribe(acme, hook.url, ["user.created"])
        user = acme.user("hooked@example.com")
        pump.run()
    (delivery,) = hook.received
    envelope = delivery.json()
    assert envelope["type"] == "user.created"
    assert envelope["data"]["user"]["id"] == user["id"]
    assert envelope["org_id"] == acme.org_id
    assert set(envelope["metadata"]) == {"ip_address", "user_agent", "api_version", "actor_id", "request_id"}
    assert delivery.headers["webhook-id"] == envelope["id"]
    reference = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    documented = re.search(r"^User-Agent: (.+)$", reference, re.M)
    assert documented, "the API reference shows a delivery's headers"
    assert delivery.headers["user-agent"] == documented.group(1)  # what the reference shows is what is sent
    verify_signatures(delivery, webhook["secret"])

    shown = event(acme, envelope["id"])
    assert shown["status"] == "delivered"
    assert shown["final_delivery_at"]
    assert shown["next_retry_at"] is None
    (attempt,) = shown["delivery_attempts"]
    assert attempt["attempt"] == 1
    assert attempt["status_code"] == 200
    assert attempt["webhook_id"] == webhook["id"]
    listed = acme.api.get("/webhooks/events", token=acme.access, query={"status": "delivered", "type": "user.created"})
    assert [e["id"] for e in listed.json()["data"]] == [envelope["id"]]


def test_only_matching_active_subscriptions_receive(acme: Tenant, pump: Pump) -> None:
    with receiver() as created, receiver() as roles, receiver() as paused:
        subscribe(acme, created.url, ["user.created"])
        subscribe(acme, roles.url, ["role.assigned"])
        subscribe(acme, paused.url, ["user.created"], active=False)
        acme.user("only@example.com")
        pump.run()
    assert len(created.received) == 1
    assert roles.received == []
    assert paused.received == []


def test_a_receiver_that_always_fails_gets_every_attempt_then_the_dead_letter_queue(acme: Tenant, pump: Pump) -> None:
    with receiver(500) as hook:
        subscribe(acme, hook.url)
        acme.user("failing@example.com")
        pump.run()
    assert len(hook.received) == 3  # WEBHOOK_RETRY_DELAYS=0,0,0
    assert len({r.headers["webhook-id"] for r in hook.received}) == 1, "the same webhook-id on every retry"
    event_id = hook.received[0].headers["webhook-id"]
    shown = event(acme, event_id)
    assert shown["status"] == "failed"
    assert [a["attempt"] for a in shown["delivery_attempts"]] == [1, 2, 3]
    assert all(a["status_code"] == 500 and a["error"] for a in shown["delivery_attempts"])
    assert shown["next_retry_at"] is None
    assert shown["final_delivery_at"]
    (dead,) = pump.dead_letters()
    assert (dead["event_id"], dead["attempt"]) == (event_id, 3)
    failed = acme.api.get("/webhooks/events", token=acme.access, query={"status": "failed"}).json()["data"]
    assert [e["id"] for e in failed] == [event_id]


def test_a_receiver_that_recovers_ends_delivered(acme: Tenant, pump: Pump) -> None:
    with receiver(503, 500, 204) as hook:
        subscribe(acme, hook.url)
        acme.user("recovering@example.com")
        pump.run()
    shown = event(acme, hook.received[0].headers["webhook-id"])
    assert shown["status"] == "delivered"
    assert [a["status_code"] for a in shown["delivery_attempts"]] == [503, 500, 204]
    assert pump.dead_letters() == []


def test_redirects_are_failures_and_never_followed(acme: Tenant, pump: Pump) -> None:
    with receiver(302) as hook:
        subscribe(acme, hook.url)
        acme.user("redirected@example.com")
        pump.run()
    shown = event(acme, hook.received[0].headers["webhook-id"])
    assert shown["status"] == "failed"
    assert "redirect not followed" in shown["delivery_attempts"][0]["error"]


def test_an_unreachable_receiver_fails_with_a_connection_error(acme: Tenant, pump: Pump) -> None:
    with receiver() as hook:
        url = hook.url
    subscribe(acme, url)  # the receiver is gone: nothing listens there now
    acme.user("unreachable@example.com")
    pump.run()
    failed = acme.api.get("/webhooks/events", token=acme.access, query={"status": "failed"}).json()["data"]
    assert len(failed) == 1
    assert failed[0]["delivery_attempts"][0]["status_code"] is None
    assert "connection" in failed[0]["delivery_attempts"][0]["error"]


def test_a_slow_receiver_does_not_hold_up_another(acme: Tenant, pump: Pump) -> None:
    with receiver(delay=2.0) as slow, receiver() as fast:
        subscribe(acme, slow.url)
        subscribe(acme, fast.url)
        acme.user("parallel@example.com")
        pump.fan_out()
        batch = pump.receive()
        assert len(batch) == 2
        started = time.monotonic()
        pump.deliver(batch)
        took = time.monotonic() - started
    assert took >= 2.0
    assert fast.received[0].at - started < 1.0, "the fast receiver was not kept waiting"


def test_retries_beyond_fifteen_minutes_hop_through_the_queue(
    acme: Tenant, pump: Pump, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, WEBHOOK_RETRY_DELAYS="0,7200")
    with receiver(500) as hook:
        subscribe(acme, hook.url)
        acme.user("later@example.com")
        pump.run()
        assert len(hook.received) == 1
        shown = event(acme, hook.received[0].headers["webhook-id"])
        assert shown["status"] == "pending"
        assert shown["next_retry_at"] > shown["delivery_attempts"][0]["timestamp"]
        attributes = pump.queue_attributes()
        assert attributes["ApproximateNumberOfMessagesDelayed"] == "1", "the retry waits in the queue, 15 min at most"

        # A message that arrives before its time goes back with the remaining delay.
        early = {
            "org_id": acme.org_id,
            "event_id": shown["id"],
            "webhook_id": shown["delivery_attempts"][0]["webhook_id"],
        }
        early |= {"generation": "gen_x", "attempt": 2, "not_before": time.time() + 7000}
        answer = pump.deliver([pump.message(early)])
        assert answer["batchItemFailures"] == []
        assert pump.queue_attributes()["ApproximateNumberOfMessagesDelayed"] == "2"
        assert len(hook.received) == 1


def test_during_a_rotation_both_secrets_sign(acme: Tenant, pump: Pump) -> None:
    with receiver() as hook:
        webhook = subscribe(acme, hook.url)
        rotated = acme.api.post(f"/webhooks/{webhook['id']}/rotate-secret", token=acme.access).json()
        acme.user("rotated@example.com")
        pump.run()
    (delivery,) = hook.received
    newest = hmac.new(rotated["secret"].encode(), delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["x-webhook-signature"] == f"sha256={newest}"  # exactly one, from the newest secret
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    StandardWebhook(rotated["secret"]).verify(delivery.body, delivery.headers)
    StandardWebhook(webhook["secret"]).verify(delivery.body, delivery.headers)


def test_a_test_event_goes_to_its_subscription_only(acme: Tenant, pump: Pump) -> None:
    with receiver() as tested, receiver() as other:
        webhook = subscribe(acme, tested.url)
        subscribe(acme, other.url)
        response = acme.api.post(f"/webhooks/{webhook['id']}/test", token=acme.access)
        assert response.status == 202
        pump.run()
    assert [r.json()["type"] for r in tested.received] == ["webhook.test"]
    assert other.received == []
    assert event(acme, response.json()["event_id"])["status"] == "delivered"


# --------------------------------------------------------------------------- event API
def test_acknowledge_and_redeliver(acme: Tenant, pump: Pump) -> None:
    with receiver(500, 500, 500, 200) as hook:
        subscribe(acme, hook.url)
        acme.user("ack@example.com")
        pump.run()
        event_id = hook.received[0].headers["webhook-id"]
        assert event(acme, event_id)["status"] == "failed"

        redelivered = acme.api.post(f"/webhooks/events/{event_id}/redeliver", token=acme.access)
        assert redelivered.status == 202
        assert redelivered.json()["status"] == "pending"
        pump.run()
        assert event(acme, event_id)["status"] == "delivered"
        assert len(event(acme, event_id)["delivery_attempts"]) == 4
    conflict = acme.api.post(f"/webhooks/events/{event_id}/acknowledge", token=acme.access)
    assert conflict.status == 409

    with receiver(500) as hook:
        subscribe(acme, hook.url, ["user.updated"])
        user = acme.user("ack2@example.com", send_welcome_email=False)
        acme.patch(user["id"], {"name": "Renamed"})
        pump.run()
        failed_id = hook.received[0].headers["webhook-id"]
    acknowledged = acme.api.post(f"/webhooks/events/{failed_id}/acknowledge", token=acme.access)
    assert acknowledged.status == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acme.api.post(f"/webhooks/events/{failed_id}/acknowledge", token=acme.access).status == 200
    assert acme.api.get("/webhooks/events/evt_01HNOSUCHEVENT000000000000", token=acme.access).status == 404


def test_events_of_another_organization_do_not_exist(
    acme: Tenant, pump: Pump, api: InProcessApi, platform: AdminCredentials
) -> None:
    with receiver() as hook:
        subscribe(acme, hook.url)
        acme.user("mine@example.com")
        pump.run()
    event_id = hook.received[0].headers["webhook-id"]
    other = new_tenant(api, platform, "Globex")
    assert other.api.get(f"/webhooks/events/{event_id}", token=other.access).status == 404
    assert other.api.post(f"/webhooks/events/{event_id}/redeliver", token=other.access).status == 404
    assert other.api.get("/webhooks/events", token=other.access).json()["data"] == []


def test_the_event_list_pages_with_a_cursor(acme: Tenant, pump: Pump) -> None:
    for i in range(5):
        acme.user(f"paged{i}@example.com", send_welcome_email=False)
    pump.run()
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2", "type": "user.created"} | ({"cursor": cursor} if cursor else {})
        page = acme.api.get("/webhooks/events", token=acme.access, query=query).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["pagination"]["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)
    bad = acme.api.get("/webhooks/events", token=acme.access, query={"cursor": "forged.cursor"})
    assert bad.status == 400


# --------------------------------------------------------------------------- failures midway
def test_a_replayed_stream_batch_sends_nothing_twice(acme: Tenant, pump: Pump) -> None:
    with receiver() as hook:
        subscribe(acme, hook.url)
        acme.user("replayed@example.com")
        records = pump.new_stream_records()
        pump.fan_out(records)
        pump.fan_out(records)  # the stream hands the same batch again
        assert len(pump.receive()) == 1
        pump.run()
    assert len(hook.received) <= 1


def test_a_fan_out_that_crashes_midway_loses_and_doubles_nothing(
    acme: Tenant, pump: Pump, monkeypatch: pytest.MonkeyPatch
) -> None:
    from umapi.webhooks.event_store import EventRepository

    real = EventRepository.mark_enqueued
    crashes = [RuntimeError("the fan-out died after queueing")]

    def crash_once(self: EventRepository, org_id: str, event_id: str) -> None:
        if crashes:
            raise crashes.pop()
        real(self, org_id, event_id)

    monkeypatch.setattr(EventRepository, "mark_enqueued", crash_once)
    with receiver() as hook:
        subscribe(acme, hook.url)
        acme.user("crash@example.com")
        records = pump.new_stream_records()
        answer = pump.fan_out(records)
        assert answer["batchItemFailures"], "the failed record is reported"
        pump.fan_out(records)  # the stream retries the batch
        pump.run()
    assert len(hook.received) == 1
    assert event(acme, hook.received[0].headers["webhook-id"])["status"] == "delivered"


def test_a_delivery_that_crashes_after_recording_still_schedules_the_next_attempt(
    acme: Tenant, pump: Pump, monkeypatch: pytest.MonkeyPatch
) -> None:
    from umapi.webhooks.queue import DeliveryQueue

    real = DeliveryQueue.send
    crashes = [ServiceUnavailableError("SQS did not answer", retry_after=1)]

    def crash_on_retry(self: DeliveryQueue, messages: list[Any], now: float) -> None:
        if crashes and messages[0].attempt == 2:
            raise crashes.pop()
        real(self, messages, now)

    monkeypatch.setattr(DeliveryQueue, "send", crash_on_retry)
    with receiver(500, 200) as hook:
        subscribe(acme, hook.url)
        acme.user("midway@example.com")
        pump.fan_out()
        first = pump.receive()
        assert pump.deliver(first)["batchItemFailures"], "the message is retried"
        assert len(hook.received) == 1
        pump.deliver(first)  # the queue hands the same message again
        assert len(hook.received) == 1, "attempt 1 is not posted twice"
        pump.run()
    shown = event(acme, hook.received[0].headers["webhook-id"])
    assert [a["status_code"] for a in shown["delivery_attempts"]] == [500, 200]
    assert shown["status"] == "delivered"


def test_a_duplicate_message_during_an_attempt_is_retried_later_not_posted(
    acme: Tenant, pump: Pump, monkeypatch: pytest.MonkeyPatch
) -> None:
    from umapi.webhooks.deliveries import DeliveryRepository

    fail_once(monkeypatch, DeliveryRepository, "record_attempt", ServiceUnavailableError("DynamoDB is throttling"))
    with receiver() as hook:
        subscribe(acme, hook.url)
        acme.user("lease@example.com")
        pump.fan_out()
        message = pump.receive()
        assert pump.deliver(message)["batchItemFailures"]
        assert pump.deliver(message)["batchItemFailures"], "the lease holds off a second post"
        assert len(hook.received) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"org_id": "org_1", "event_id": "evt_1"},  # fields missing
        {
            "org_id": "org_1",
            "event_id": "evt_1",
            "webhook_id": "whk_1",
            "generation": "g",
            "attempt": "2",
            "not_before": 0,
        },
        {"org_id": 1, "event_id": "evt_1", "webhook_id": "whk_1", "generation": "g", "attempt": 1, "not_before": 0},
        ["not", "an", "object"],
    ],
    ids=["missing", "attempt as text", "org as number", "a list"],
)
def test_a_malformed_message_goes_straight_to_the_dead_letter_queue(pump: Pump, body: Any) -> None:
    answer = pump.deliver([pump.message(body)])
    assert answer["batchItemFailures"] == []  # never retried: it could never succeed
    assert pump.dead_letters() == [body]


def test_a_bug_fails_the_batch_instead_of_looking_like_a_transient_failure(
    acme: Tenant, pump: Pump, monkeypatch: pytest.MonkeyPatch
) -> None:
    from umapi.webhooks import delivery

    def broken(*_: Any) -> str:
        raise KeyError("a bug")

    monkeypatch.setattr(delivery, "step", broken)
    body = {
        "org_id": acme.org_id,
        "event_id": "evt_01HNOSUCHEVENT000000000000",
        "webhook_id": "whk_01HNOSUCHHOOK0000000000000",
        "generation": "g1",
        "attempt": 1,
        "not_before": 0,
    }
    with pytest.raises(KeyError):
        pump.deliver([pump.message(body)])


@pytest.mark.parametrize("run", range(3))
def test_one_event_to_25_subscriptions_over_10_threads_is_posted_and_recorded_once_each(
    acme: Tenant, pump: Pump, dynamodb_calls: list[str], run: int
) -> None:
    # Given one event for 25 subscriptions, its 25 messages queued
    with receiver(delay=0.02) as hook:
        hooks = [subscribe(acme, f"{hook.url}/{i}")["id"] for i in range(25)]
        acme.user(f"crowd{run}@example.com")
        pump.fan_out()
        messages: list[dict[str, Any]] = []
        while batch := pump.receive():
            messages += batch
        assert len(messages) == 25

        # When 10 delivery functions take them at once, one message each
        dynamodb_calls.clear()
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(lambda message: pump.deliver([message]), messages))
        calls = list(dynamodb_calls)

    # Then each subscription got exactly one post, each was recorded, and nothing is retried
    assert all(answer["batchItemFailures"] == [] for answer in answers)
    assert sorted(r.headers["webhook-id"] for r in hook.received) == [hook.received[0].headers["webhook-id"]] * 25
    assert len(hook.received) == 25
    shown = event(acme, hook.received[0].headers["webhook-id"])
    assert shown["status"] == "delivered"
    assert sorted(a["webhook_id"] for a in shown["delivery_attempts"]) == sorted(hooks)
    assert pump.receive() == []
    # And no transaction: an attempt is one conditional update of the event (plus the lease)
    assert "TransactWriteItems" not in calls
    # 3 calls an attempt (read, lease, record), and one more ends the event
    assert (calls.count("BatchGetItem"), calls.count("UpdateItem"), len(calls)) == (25, 25 * 2 + 1, 25 * 3 + 1)


def test_a_crash_before_the_event_ends_is_mended_by_the_next_copy(
    acme: Tenant, pump: Pump, monkeypatch: pytest.MonkeyPatch
) -> None:
    from umapi.webhooks.event_store import EventRepository

    fail_once(monkeypatch, EventRepository, "finish_if_done", ServiceUnavailableError("the function timed out"))
    with receiver() as hook:
        subscribe(acme, hook.url)
        acme.user("mended@example.com")
        pump.fan_out()
        message = pump.receive()
        assert pump.deliver(message)["batchItemFailures"], "recorded, then the crash"
        event_id = hook.received[0].headers["webhook-id"]
        assert event(acme, event_id)["status"] == "pending"
        pump.deliver(message)  # the queue hands it again
    assert len(hook.received) == 1, "not posted twice"
    shown = event(acme, event_id)
    assert shown["status"] == "delivered"
    assert len(shown["delivery_attempts"]) == 1


def test_an_event_fanned_out_before_states_moved_to_the_event_is_delivered(acme: Tenant, pump: Pump) -> None:
    # Given an event fanned out by the previous version: each delivery's state on its own item
    from umapi.aws import dynamodb_client

    with receiver(500, 200) as hook:
        subscribe(acme, hook.url)
        acme.user("legacy@example.com")
        pump.fan_out()
        message = pump.receive()
        table = get_settings().table_name
        dynamodb = dynamodb_client()
        event_key = {"PK": {"S": f"ORG#{acme.org_id}#EVENTS"}, "SK": {"S": json.loads(message[0]["Body"])["event_id"]}}
        old = dynamodb.update_item(
            TableName=table, Key=event_key, UpdateExpression="REMOVE progress, generation", ReturnValues="ALL_OLD"
        )
        assert "progress" in old["Attributes"]
        (delivery,) = dynamodb.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ORG#{acme.org_id}#DELIVERIES"}},
        )["Items"]
        dynamodb.update_item(
            TableName=table,
            Key={"PK": delivery["PK"], "SK": delivery["SK"]},
            UpdateExpression="SET next_attempt = :one, #status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":pending": {"S": "pending"}},
        )

        # When its messages are delivered by this version
        pump.deliver(message)
        pump.run()

    # Then every attempt is posted once and recorded, and the event ends
    assert len(hook.received) == 2
    shown = event(acme, hook.received[0].headers["webhook-id"])
    assert [a["status_code"] for a in shown["delivery_attempts"]] == [500, 200]
    assert shown["status"] == "delivered"


def test_rate_limit_and_idempotency_writes_give_the_fan_out_no_input(acme: Tenant, pump: Pump) -> None:
    from pathlib import Path

    from devserver.event_filter import matches, parse_filters
    from devserver.template import Template

    template = Template.load(Path(__file__).resolve().parents[2] / "template.yaml")
    stream = template.body["Resources"]["WebhookFanoutFunction"]["Properties"]["Events"]["TableStream"]
    filters = parse_filters(stream["Properties"]["FilterCriteria"])
    pump.new_stream_records()  # what the set-up wrote

    # Reads (each one a rate-limit count on the client's item) and a refused idempotent POST
    for _ in range(5):
        assert acme.api.get("/users", token=acme.access).status == 200
    for _ in range(2):
        refused = acme.api.post(
            "/roles", token=acme.access, json_body={"name": ""}, headers={"Idempotency-Key": "again"}
        )
        assert refused.status == 400
    quiet = pump.new_stream_records()
    assert quiet, "the table's stream has their records"
    assert [r for r in quiet if matches(filters, r)] == []

    # While one change gives exactly its event, repeated with the same Idempotency-Key or not
    for _ in range(2):
        created = acme.api.post(
            "/users",
            token=acme.access,
            json_body={"email": "once@example.com", "name": "Once"},
            headers={"Idempotency-Key": "user-once"},
        )
        assert created.status == 201
    passed = [r for r in pump.new_stream_records() if matches(filters, r)]
    assert [r["dynamodb"]["NewImage"]["type"]["S"] for r in passed] == ["user.created"]
