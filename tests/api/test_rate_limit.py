"""Rate limiting per API key (docs/api.md §3): headers, 429, per-client limits, window reset."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.support.api import InProcessApi
from tests.support.flows import admin_token, new_client, new_org, token
from umapi.auth import ratelimit
from umapi.bootstrap import AdminCredentials


def test_every_identified_response_carries_rate_limit_headers(api: InProcessApi, platform: AdminCredentials) -> None:
    access = admin_token(api, platform)  # request 1 of this client's window
    first = api.get("/clients", token=access)
    second = api.get("/orgs/org_01HNOSUCHORG00000000000000", token=access)  # an error answer counts and is labelled too
    assert second.status == 404
    for response, remaining in ((first, 498), (second, 497)):
        assert response.header("X-RateLimit-Limit") == "500"
        assert response.header("X-RateLimit-Remaining") == str(remaining)
        assert response.header("X-RateLimit-Window") == "60"
        reset = int(response.header("X-RateLimit-Reset") or 0)
        assert time.time() < reset <= time.time() + 61


def test_request_over_the_client_limit_is_429(api: InProcessApi, platform: AdminCredentials) -> None:
    # Given a client limited to 3 requests a minute (the token request is one of them)
    admin = admin_token(api, platform)
    org = new_org(api, admin)
    limited = new_client(api, admin, org, ["clients:read"], rate_limit_per_minute=3)
    access = token(api, limited.client_id, limited.client_secret)
    assert api.get("/clients", token=access).status == 200
    assert api.get("/clients", token=access).header("X-RateLimit-Remaining") == "0"

    # When it sends one more
    refused = api.get("/clients", token=access)

    # Then it is refused with everything a client needs to back off
    assert refused.status == 429
    retry_after = int(refused.header("Retry-After") or 0)
    assert 1 <= retry_after <= 60
    error = refused.error
    assert error["code"] == "rate_limited"
    assert error["retry_after"] == retry_after
    assert error["limit"] == 3
    assert error["window"] == 60
    # reset_at is RFC 3339 (UTC, Z) in the body; the header stays unix seconds
    reset = datetime.fromtimestamp(int(refused.header("X-RateLimit-Reset") or 0), UTC)
    assert error["reset_at"].endswith("Z")
    assert datetime.fromisoformat(error["reset_at"]) == reset
    assert refused.header("X-RateLimit-Remaining") == "0"

    # And the token endpoint counts against the same key
    again = api.post(
        "/auth/token", form={"grant_type": "client_credentials"}, basic=(limited.client_id, limited.client_secret)
    )
    assert again.status == 429

    # While another client is unaffected
    assert api.get("/clients", token=admin, query={"org_id": org}).status == 200


def test_the_window_reopens_after_a_minute(
    api: InProcessApi, platform: AdminCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = admin_token(api, platform)
    limited = new_client(api, admin, new_org(api, admin), ["clients:read"], rate_limit_per_minute=2)
    access = token(api, limited.client_id, limited.client_secret)
    assert api.get("/clients", token=access).status == 200
    assert api.get("/clients", token=access).status == 429

    later = time.time() + 61
    monkeypatch.setattr(ratelimit, "epoch_seconds", lambda: later)
    reopened = api.get("/clients", token=access)
    assert reopened.status == 200
    assert reopened.header("X-RateLimit-Remaining") == "1"


def test_refused_requests_do_not_extend_the_wait(
    api: InProcessApi, platform: AdminCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = admin_token(api, platform)
    limited = new_client(api, admin, new_org(api, admin), ["clients:read"], rate_limit_per_minute=1)
    access = token(api, limited.client_id, limited.client_secret)
    first_refusal = api.get("/clients", token=access)
    for _ in range(5):
        assert api.get("/clients", token=access).status == 429
    assert api.get("/clients", token=access).header("X-RateLimit-Reset") == first_refusal.header("X-RateLimit-Reset")


def test_default_limit_comes_from_the_environment(
    api: InProcessApi, platform: AdminCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "2")
    from umapi import services
    from umapi.settings import get_settings

    get_settings.cache_clear()
    services.reset()
    access = admin_token(api, platform)
    ok = api.get("/clients", token=access)
    assert ok.header("X-RateLimit-Limit") == "2"
    assert api.get("/clients", token=access).status == 429


def test_a_client_that_changes_itself_keeps_its_window(api: InProcessApi, platform: AdminCredentials) -> None:
    # Given a client that may change clients, limited to 3 requests a minute, with 1 left
    admin = admin_token(api, platform)
    org = new_org(api, admin)
    limited = new_client(api, admin, org, ["clients:read", "clients:write"], rate_limit_per_minute=3)
    access = token(api, limited.client_id, limited.client_secret)  # 1
    assert api.get("/clients", token=access).status == 200  # 2

    # When it renames itself (3), the window it is counted in is not emptied by the change
    renamed = api.patch(f"/clients/{limited.client_id}", token=access, json_body={"name": "renamed"})
    assert renamed.status == 200, renamed.body
    assert renamed.header("X-RateLimit-Remaining") == "0"
    assert api.get("/clients", token=access).status == 429


def test_a_changed_limit_applies_to_the_next_request(api: InProcessApi, platform: AdminCredentials) -> None:
    admin = admin_token(api, platform)
    org = new_org(api, admin)
    limited = new_client(api, admin, org, ["clients:read"], rate_limit_per_minute=2)
    access = token(api, limited.client_id, limited.client_secret)
    assert api.get("/clients", token=access).status == 200
    assert api.get("/clients", token=access).status == 429
    raised = api.patch(
        f"/clients/{limited.client_id}", token=admin, query={"org_id": org}, json_body={"rate_limit_per_minute": 10}
    )
    assert raised.status == 200, raised.body
    allowed = api.get("/clients", token=access)
    assert allowed.status == 200
    assert allowed.header("X-RateLimit-Limit") == "10"
    assert allowed.header("X-RateLimit-Remaining") == "7"  # the window still holds the 3 admitted requests


def test_a_deleted_clients_token_is_refused_and_counts_nowhere(api: InProcessApi, platform: AdminCredentials) -> None:
    from umapi.aws import dynamodb_client
    from umapi.settings import get_settings
    from umapi.table_keys import CLIENT_SK, client_pk

    admin = admin_token(api, platform)
    org = new_org(api, admin)
    doomed = new_client(api, admin, org, ["clients:read"])
    access = token(api, doomed.client_id, doomed.client_secret)
    assert api.delete(f"/clients/{doomed.client_id}", token=admin, query={"org_id": org}).status == 204
    refused = api.get("/clients", token=access)
    assert refused.status == 401
    assert 'error="invalid_token"' in (refused.header("WWW-Authenticate") or "")
    left = dynamodb_client().get_item(
        TableName=get_settings().table_name, Key={"PK": {"S": client_pk(doomed.client_id)}, "SK": {"S": CLIENT_SK}}
    )
    assert "Item" not in left  # the count did not bring the deleted client's item back


def test_the_client_item_that_counts_requests_is_in_no_index(api: InProcessApi, platform: AdminCredentials) -> None:
    # Every request updates the client's item; in an index projecting it, each would be a second write
    from pathlib import Path

    from devserver.template import Template
    from umapi.aws import dynamodb_client
    from umapi.settings import get_settings

    admin = admin_token(api, platform)
    org = new_org(api, admin)
    client = new_client(api, admin, org, ["clients:read"])
    access = token(api, client.client_id, client.client_secret)
    assert api.get("/clients", token=access).status == 200
    template = Template.load(Path(__file__).resolve().parents[2] / "template.yaml")
    table = template.body["Resources"]["Table"]["Properties"]
    index_keys = {key["AttributeName"] for index in table["GlobalSecondaryIndexes"] for key in index["KeySchema"]}
    item = dynamodb_client().get_item(
        TableName=get_settings().table_name, Key={"PK": {"S": f"CLIENT#{client.client_id}"}, "SK": {"S": "CLIENT"}}
    )["Item"]
    assert "rate_admitted" in item
    assert not index_keys & set(item)
