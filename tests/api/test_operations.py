"""Operations: DynamoDB throttling answered as 503 with Retry-After and nothing half-written,
and logs that never hold a secret (docs/api.md §8)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.support.api import ApiResponse, InProcessApi
from tests.support.users import Tenant
from umapi.aws import dynamodb_client
from umapi.bootstrap import AdminCredentials


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """What the handlers' logger writes (its JSON lines), for this test."""
    from umapi.observability import logger

    stream = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


class _HttpResponse:
    status_code = 400
    headers: dict[str, str] = {}  # noqa: RUF012 - botocore reads it, never writes
    content = b""


@contextmanager
def dynamodb_fails(operation: str, error: dict[str, Any], times: int = 1) -> Iterator[list[str]]:
    """The next ``times`` calls of ``operation`` answer ``error`` as DynamoDB would (before the
    request leaves: a botocore ``before-call`` hook answers in DynamoDB's place)."""
    injected: list[str] = []

    def answer(model: Any, **_: Any) -> Any:  # (http response, parsed) or None: call DynamoDB
        if model.name != operation or len(injected) >= times:
            return None
        injected.append(operation)
        return _HttpResponse(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}, **error.get("extra", {})}

    events = dynamodb_client().meta.events
    events.register_first(f"before-call.dynamodb.{operation}", answer)
    try:
        yield injected
    finally:
        events.unregister(f"before-call.dynamodb.{operation}", answer)


THROUGHPUT = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds capacity."}
THROTTLED_TRANSACTION = {
    "Code": "TransactionCanceledException",
    "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError, None]",
    "extra": {"CancellationReasons": [{"Code": "ThrottlingError"}, {"Code": "None"}]},
}


def assert_unavailable(response: ApiResponse) -> None:
    assert response.status == 503, response.body
    assert response.error["code"] == "service_unavailable"
    assert int(response.header("Retry-After") or 0) >= 1
    assert response.header("X-Request-Id") == response.error["request_id"]


@pytest.mark.parametrize("error", [THROUGHPUT, THROTTLED_TRANSACTION], ids=["throughput", "cancelled-throttled"])
def test_a_throttled_create_is_503_and_writes_nothing(acme: Tenant, error: dict[str, Any]) -> None:
    with dynamodb_fails("TransactWriteItems", error) as injected:
        assert_unavailable(acme.create(email="throttled@example.com", name="Throttled"))
    assert injected
    assert acme.api.get("/users", token=acme.access).json()["data"] == []
    log = acme.api.get("/audit-log", token=acme.access, query={"action": "user.created"}).json()["data"]
    assert log == []
    assert acme.create(email="throttled@example.com", name="Throttled").status == 201  # the email is free


def test_a_dynamodb_timeout_is_503(acme: Tenant) -> None:
    from botocore.exceptions import ReadTimeoutError

    user = acme.user("slow@example.com", send_welcome_email=False)

    def time_out(model: Any, **_: Any) -> None:
        if model.name == "GetItem":
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    events = dynamodb_client().meta.events
    events.register_first("before-call.dynamodb.GetItem", time_out)
    try:
        assert_unavailable(acme.get(user["id"]))
    finally:
        events.unregister("before-call.dynamodb.GetItem", time_out)
    assert acme.get(user["id"]).status == 200


def test_throttled_authentication_and_rate_limiting_are_503(acme: Tenant) -> None:
    with dynamodb_fails("UpdateItem", THROUGHPUT):
        assert_unavailable(acme.api.get("/users", token=acme.access))
    with dynamodb_fails("UpdateItem", {"Code": "ThrottlingException", "Message": "Throttled"}):
        assert_unavailable(acme.api.get("/users", token=acme.access))
    assert acme.api.get("/users", token=acme.access).status == 200


def test_a_throttled_role_change_leaves_the_user_and_the_admin_roster_as_they_were(acme: Tenant) -> None:
    admins = [acme.user(f"admin{i}@example.com", role="admin", send_welcome_email=False) for i in range(2)]
    for admin in admins:
        acme.api.post(f"/users/{admin['id']}/activate", token=acme.access)
    first, second = (f"/users/{admin['id']}/roles/role_admin" for admin in admins)
    with dynamodb_fails("TransactWriteItems", THROTTLED_TRANSACTION):
        assert_unavailable(acme.api.delete(first, token=acme.access))
    assert [r["id"] for r in acme.get(admins[0]["id"]).json()["roles"]] == ["role_admin"]
    assert acme.api.delete(first, token=acme.access).status == 204, "the roster still counts two admins"
    assert acme.api.delete(second, token=acme.access).status == 422


def test_the_token_endpoint_answers_503_in_its_own_shape_when_throttled(
    api: InProcessApi, platform: AdminCredentials
) -> None:
    with dynamodb_fails("GetItem", THROUGHPUT):
        response = api.post(
            "/auth/token", form={"grant_type": "client_credentials"}, basic=(platform.client_id, platform.client_secret)
        )
    assert response.status == 503
    assert response.header("Retry-After")


def test_logs_never_hold_a_secret(
    api: InProcessApi, platform: AdminCredentials, log_stream: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.login import PASSWORD, code_from, exchange, login_world, sign_in

    world = login_world(api, platform)
    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    refreshed = api.post(
        "/auth/token",
        form={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic=(world.web.client_id, world.web.client_secret or ""),
    ).json()
    api.post(  # a replay: the reuse is logged, the token must not be
        "/auth/token",
        form={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic=(world.web.client_id, world.web.client_secret or ""),
    )
    webhook = api.post(
        "/webhooks",
        token=world.tenant.access,
        json_body={"url": "https://hooks.example.com/in", "events": ["user.created"]},
    ).json()
    rotated = api.post(f"/webhooks/{webhook['id']}/rotate-secret", token=world.tenant.access).json()
    api.get("/users/me", token="not-a-token")  # a rejected token is not echoed either
    api.post(
        "/users", token=world.tenant.access, json_body={"email": "x@example.com", "name": "X", "password": "short"}
    )

    secrets = {
        "platform client secret": platform.client_secret,
        "web client secret": world.web.client_secret or "",
        "password": PASSWORD,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "rotated refresh token": refreshed["refresh_token"],
        "webhook secret": webhook["secret"],
        "rotated webhook secret": rotated["secret"],
    }
    records = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    logs = log_stream.getvalue() + records
    assert len(logs) > 1000, "the handlers logged something"
    leaked = [name for name, value in secrets.items() if value and value in logs]
    assert leaked == []


def test_log_lines_say_who_asked_and_in_which_organization(acme: Tenant, log_stream: io.StringIO) -> None:
    acme.api.get("/users/usr_01HNOSUCHUSER0000000000000", token=acme.access)  # a 404 logs a line
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.startswith("{")]
    rejected = next(line for line in lines if line.get("message") == "request rejected")
    assert rejected["org_id"] == acme.org_id
    assert rejected["client_id"].startswith("cli_")
    assert rejected["request_id"].startswith("req_")
