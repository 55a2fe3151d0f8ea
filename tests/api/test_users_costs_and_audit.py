"""What user endpoints cost in DynamoDB calls, and the audit log they leave behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import InProcessApi
from tests.support.users import Tenant
from umapi.bootstrap import AdminCredentials


def test_get_user_is_two_calls_with_authentication(acme: Tenant, dynamodb_calls: list[str]) -> None:
    user = acme.user("cost@example.com")
    acme.get(user["id"])  # warm container
    dynamodb_calls.clear()
    assert acme.get(user["id"]).status == 200
    assert dynamodb_calls == ["UpdateItem", "GetItem"]


def test_create_user_is_one_transaction(acme: Tenant, dynamodb_calls: list[str]) -> None:
    acme.user("warm@example.com")
    dynamodb_calls.clear()
    acme.user("tx@example.com")
    assert dynamodb_calls == ["UpdateItem", "TransactWriteItems"]


def test_every_change_leaves_an_audit_entry_without_secrets(acme: Tenant) -> None:
    user = acme.user("audited@example.com", password="Secret-Pass-1")
    acme.patch(user["id"], {"name": "Renamed", "password": "Other-Pass-22"})
    acme.api.post(f"/users/{user['id']}/deactivate", token=acme.access, json_body={"reason": "vacation"})
    entries = acme.api.get("/audit-log", token=acme.access, query={"target_id": user["id"]}).json()["data"]
    assert [entry["action"] for entry in entries] == ["user.deactivated", "user.updated", "user.created"]
    newest = entries[0]
    assert set(newest) == {
        "id",
        "actor",
        "action",
        "target",
        "changes",
        "request_id",
        "ip",
        "user_agent",
        "job_id",
        "created_at",
    }
    assert newest["actor"]["type"] == "client"
    assert newest["target"] == {"type": "user", "id": user["id"]}
    assert newest["request_id"].startswith("req_")
    assert entries[1]["changes"]["password"] == {"changed": True}
    assert entries[1]["changes"]["name"] == {"changed": True}
    text = str(entries)
    for secret in ("Secret-Pass-1", "Other-Pass-22", "argon2", "audited@example.com"):
        assert secret not in text


def test_audit_log_filters(acme: Tenant) -> None:
    first = acme.user("one@example.com")
    acme.user("two@example.com")
    acme.patch(first["id"], {"department": "Ops"})
    log = acme.api.get("/audit-log", token=acme.access).json()["data"]
    actor = log[0]["actor"]["id"]

    def actions(**query: str) -> list[str]:
        response = acme.api.get("/audit-log", token=acme.access, query=query)
        assert response.status == 200, response.body
        return [entry["action"] for entry in response.json()["data"]]

    assert actions(action="user.updated") == ["user.updated"]
    assert actions(actor_id=actor, action="user.created") == ["user.created", "user.created"]
    assert actions(target_id=first["id"]) == ["user.updated", "user.created"]
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert actions(since=future) == []
    assert len(actions(until=future)) == len(log)
    assert acme.api.get("/audit-log", token=acme.access, query={"since": "yesterday"}).status == 400


def test_audit_log_needs_audit_read(api: InProcessApi, platform: AdminCredentials, acme: Tenant) -> None:
    from tests.support.flows import admin_token, new_client, token

    reader = new_client(api, admin_token(api, platform), acme.org_id, ["users:read"])
    response = api.get("/audit-log", token=token(api, reader.client_id, reader.client_secret))
    assert response.status == 403
    assert response.error["required_permission"] == "audit:read"
