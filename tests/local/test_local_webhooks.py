"""Webhooks end to end through the local runtime: a change made over HTTP reaches a receiver
on 127.0.0.1 through the stream poller, the fan-out, the queue poller and the delivery function,
with the retry schedule compressed by WEBHOOK_RETRY_DELAYS."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from standardwebhooks import Webhook as StandardWebhook

from devserver.runtime import LocalRuntime
from tests.local.conftest import ROOT, start_runtime
from tests.support.http import admin_headers, new_org
from tests.support.webhooks import Receiver, receiver

pytestmark = pytest.mark.e2e

DELAYS = [0, 1, 1, 1, 1, 1, 1]


@pytest.fixture(scope="module")
def hooks_api() -> Iterator[LocalRuntime]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBHOOK_RETRY_DELAYS", ",".join(map(str, DELAYS)))
        runtime = start_runtime(ROOT / "template.yaml")
    yield runtime
    runtime.stop()


def subscribe(runtime: LocalRuntime, headers: dict[str, str], org: str, url: str) -> dict[str, Any]:
    response = requests.post(
        f"{runtime.url}/webhooks",
        params={"org_id": org},
        json={"url": url, "events": ["user.created"]},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def create_user(runtime: LocalRuntime, headers: dict[str, str], org: str, email: str) -> None:
    response = requests.post(
        f"{runtime.url}/users",
        params={"org_id": org},
        json={"email": email, "name": "Hooked", "send_welcome_email": False},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def event_of(runtime: LocalRuntime, headers: dict[str, str], org: str, hook: Receiver) -> dict[str, Any]:
    event_id = hook.received[0].headers["webhook-id"]
    response = requests.get(
        f"{runtime.url}/webhooks/events/{event_id}", params={"org_id": org}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_new_user_reaches_a_local_receiver_within_seconds(hooks_api: LocalRuntime) -> None:
    headers = admin_headers(hooks_api)
    org = new_org(hooks_api, headers, "Hooked")
    with receiver() as hook:
        webhook = subscribe(hooks_api, headers, org, hook.url)
        started = time.monotonic()
        create_user(hooks_api, headers, org, "arrives@example.com")
        wait_for(lambda: hook.received, 10, "the delivery")
        took = time.monotonic() - started
    (delivery,) = hook.received
    assert delivery.json()["type"] == "user.created"
    expected = "sha256=" + hmac.new(webhook["secret"].encode(), delivery.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery.headers["x-webhook-signature"], expected)
    StandardWebhook(webhook["secret"]).verify(delivery.body, delivery.headers)
    assert took < 10
    wait_for(lambda: event_of(hooks_api, headers, org, hook)["status"] == "delivered", 5, "delivered")


def test_an_always_failing_receiver_gets_seven_attempts_then_failed(hooks_api: LocalRuntime) -> None:
    headers = admin_headers(hooks_api)
    org = new_org(hooks_api, headers, "Failing")
    arrivals: list[float] = []
    with receiver(500) as hook:
        subscribe(hooks_api, headers, org, hook.url)
        create_user(hooks_api, headers, org, "fails@example.com")
        wait_for(lambda: len(hook.received) >= len(DELAYS), 60, "seven attempts")
        wait_for(lambda: event_of(hooks_api, headers, org, hook)["status"] == "failed", 15, "failed")
        time.sleep(2)  # nothing more comes
        arrivals = [r.at for r in hook.received]
    assert len(arrivals) == len(DELAYS)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    shown = event_of(hooks_api, headers, org, hook)
    assert [a["attempt"] for a in shown["delivery_attempts"]] == list(range(1, 8))
    assert shown["next_retry_at"] is None


def test_a_receiver_that_fails_twice_then_succeeds_ends_delivered(hooks_api: LocalRuntime) -> None:
    headers = admin_headers(hooks_api)
    org = new_org(hooks_api, headers, "Recovering")
    with receiver(500, 502, 200) as hook:
        subscribe(hooks_api, headers, org, hook.url)
        create_user(hooks_api, headers, org, "recovers@example.com")
        wait_for(lambda: len(hook.received) >= 3, 30, "three attempts")
        wait_for(lambda: event_of(hooks_api, headers, org, hook)["status"] == "delivered", 10, "delivered")
        time.sleep(1.5)
    shown = event_of(hooks_api, headers, org, hook)
    assert [a["status_code"] for a in shown["delivery_attempts"]] == [500, 502, 200]
    assert len(hook.received) == 3
