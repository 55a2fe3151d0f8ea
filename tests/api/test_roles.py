"""Roles and assignments through the roles function: docs/api.md §5, unhappy paths included."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.support.api import ApiResponse, InProcessApi
from tests.support.users import Tenant
from umapi import db
from umapi.bootstrap import AdminCredentials
from umapi.table_keys import events_pk

ROLE_FIELDS = {"id", "org_id", "name", "description", "permissions", "system", "created_at", "updated_at"}


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def new_role(tenant: Tenant, name: str = "Auditors", permissions: list[str] | None = None) -> dict[str, Any]:
    body = {"name": name, "description": "Read-only reviewers", "permissions": permissions or ["audit:read"]}
    response = tenant.api.post("/roles", token=tenant.access, json_body=body)
    assert response.status == 201, response.body
    return dict(response.json())


def assign(tenant: Tenant, user_id: str, role_id: str, **body: Any) -> ApiResponse:
    return tenant.api.post(f"/users/{user_id}/roles", token=tenant.access, json_body={"role_id": role_id, **body})


def unassign(tenant: Tenant, user_id: str, role_id: str) -> ApiResponse:
    return tenant.api.delete(f"/users/{user_id}/roles/{role_id}", token=tenant.access)


def active_user(tenant: Tenant, email: str, role: str = "member") -> dict[str, Any]:
    user = tenant.user(email, role=role, send_welcome_email=False)
    response = tenant.api.post(f"/users/{user['id']}/activate", token=tenant.access)
    assert response.status == 200, response.body
    return dict(response.json())


def granted(tenant: Tenant, user_id: str, permission: str) -> bool:
    response = tenant.api.get(f"/users/{user_id}/permissions/{permission}", token=tenant.access)
    assert response.status in (200, 404), response.body
    return response.status == 200


def outbox(org_id: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=os.environ["TABLE_NAME"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": events_pk(org_id)}},
    )["Items"]
    return [db.deserialize(item)["envelope"] for item in items]


# --------------------------------------------------------------------------- roles
def test_system_roles_are_listed_with_a_long_private_cache(acme: Tenant) -> None:
    response = acme.api.get("/roles", token=acme.access)
    assert response.status == 200
    assert response.header("Cache-Control") == "private, max-age=3600"
    roles = {role["id"]: role for role in response.json()["data"]}
    assert set(roles) == {"role_admin", "role_member", "role_viewer"}
    assert set(roles["role_admin"]) == ROLE_FIELDS
    assert roles["role_member"]["permissions"] == ["roles:read", "users:read"]
    assert roles["role_viewer"]["system"] is True
    assert acme.api.get("/roles/admin", token=acme.access).json()["id"] == "role_admin"


def test_a_custom_role_is_created_listed_changed_and_deleted(acme: Tenant) -> None:
    response = acme.api.post(
        "/roles",
        token=acme.access,
        json_body={"name": " Support ", "description": "Helps", "permissions": ["users:update", "users:read"]},
    )
    assert response.status == 201, response.body
    role = response.json()
    assert set(role) == ROLE_FIELDS
    assert role["id"].startswith("role_")
    assert role["system"] is False
    assert role["name"] == "Support"
    assert role["org_id"] == acme.org_id
    assert role["permissions"] == ["users:read", "users:update"]
    assert response.header(
        "Location",
    ).endswith(f"/roles/{role['id']}")  # type: ignore[union-attr]
    assert role["id"] in [r["id"] for r in acme.api.get("/roles", token=acme.access).json()["data"]]

    patched = acme.api.patch(
        f"/roles/{role['id']}", token=acme.access, json_body={"name": "Helpdesk", "description": None}
    )
    assert patched.status == 200, patched.body
    assert patched.json()["name"] == "Helpdesk"
    assert patched.json()["description"] is None
    assert acme.api.get(f"/roles/{role['id']}", token=acme.access).json()["name"] == "Helpdesk"
    new_role(acme, "support")  # the old name is free again

    assert acme.api.delete(f"/roles/{role['id']}", token=acme.access).status == 204
    assert acme.api.get(f"/roles/{role['id']}", token=acme.access).status == 404
    actions = [e["action"] for e in acme.api.get("/audit-log", token=acme.access).json()["data"]]
    assert actions[:4] == ["role.deleted", "role.created", "role.updated", "role.created"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"permissions": ["users:read"]}, "name"),
        ({"name": "", "permissions": ["users:read"]}, "name"),
        ({"name": "x" * 65, "permissions": ["users:read"]}, "name"),
        ({"name": "Ops"}, "permissions"),
        ({"name": "Ops", "permissions": ["users:fly"]}, "permissions"),
        ({"name": "Ops", "permissions": ["platform:admin"]}, "permissions"),
        ({"name": "Ops", "permissions": "users:read"}, "permissions"),
        ({"name": "Ops", "permissions": ["users:read"], "system": True}, "system"),
    ],
)
def test_bad_roles_are_refused_with_the_field(acme: Tenant, body: dict[str, Any], field: str) -> None:
    response = acme.api.post("/roles", token=acme.access, json_body=body)
    assert response.status == 400, response.body
    assert response.error["code"] == "validation_error"
    assert field in [detail["field"] for detail in response.error["details"]]


def test_role_names_are_unique_per_organization_and_never_a_system_name(acme: Tenant, globex: Tenant) -> None:
    new_role(acme, "Auditors")
    for name in ("AUDITORS", "Admin", "viewer"):
        response = acme.api.post("/roles", token=acme.access, json_body={"name": name, "permissions": []})
        assert response.status == 409, name
        assert response.error["conflicting_field"] == "name"
    new_role(globex, "Auditors")  # another organization may use the name


def test_system_roles_cannot_be_changed_or_deleted(acme: Tenant) -> None:
    for ref in ("role_admin", "member"):
        patched = acme.api.patch(f"/roles/{ref}", token=acme.access, json_body={"description": "mine now"})
        assert patched.status == 403
        assert patched.error["code"] == "forbidden"
        assert "system role" in patched.error["message"]
        assert acme.api.delete(f"/roles/{ref}", token=acme.access).status == 403


def test_roles_of_another_organization_do_not_exist(acme: Tenant, globex: Tenant) -> None:
    theirs = new_role(globex, "Secret")
    mine = active_user(acme, "mine@example.com")
    assert acme.api.get(f"/roles/{theirs['id']}", token=acme.access).status == 404
    assert acme.api.patch(f"/roles/{theirs['id']}", token=acme.access, json_body={"name": "x"}).status == 404
    assert acme.api.delete(f"/roles/{theirs['id']}", token=acme.access).status == 404
    assert assign(acme, mine["id"], theirs["id"]).status == 404
    assert theirs["id"] not in [r["id"] for r in acme.api.get("/roles", token=acme.access).json()["data"]]
    their_user = active_user(globex, "theirs@example.com")
    assert assign(acme, their_user["id"], "role_viewer").status == 404


def test_roles_need_roles_permissions_and_give_no_more_than_the_caller_holds(
    acme: Tenant, api: InProcessApi, platform: AdminCredentials
) -> None:
    from tests.support.flows import admin_token, new_client, token

    reader = new_client(api, admin_token(api, platform), acme.org_id, ["roles:read", "users:read"])
    reader_token = token(api, reader.client_id, reader.client_secret)
    assert api.get("/roles", token=reader_token).status == 200
    refused = api.post("/roles", token=reader_token, json_body={"name": "X", "permissions": []})
    assert refused.status == 403
    assert refused.error["required_permission"] == "roles:write"

    writer = new_client(api, admin_token(api, platform), acme.org_id, ["roles:write", "users:read", "users:update"])
    writer_token = token(api, writer.client_id, writer.client_secret)
    escalation = api.post("/roles", token=writer_token, json_body={"name": "Y", "permissions": ["users:delete"]})
    assert escalation.status == 403
    assert escalation.error["required_permission"] == "users:delete"
    role = api.post("/roles", token=writer_token, json_body={"name": "Z", "permissions": ["users:read"]}).json()
    widened = api.patch(f"/roles/{role['id']}", token=writer_token, json_body={"permissions": ["audit:read"]})
    assert widened.status == 403
    assert widened.error["required_permission"] == "audit:read"
    user = active_user(acme, "someone@example.com")
    admin = api.post(f"/users/{user['id']}/roles", token=writer_token, json_body={"role_id": "admin"})
    assert admin.status == 403
    assert admin.error["code"] == "forbidden"


# --------------------------------------------------------------------------- assignments
def test_assigning_a_role_answers_201_and_shows_everywhere(acme: Tenant) -> None:
    role = new_role(acme, "Auditors", ["audit:read", "users:read"])
    user = active_user(acme, "assignee@example.com")
    expires = in_seconds(3600)
    response = assign(acme, user["id"], role["id"], expires_at=expires, assigned_by="usr_01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert response.status == 201, response.body
    body = response.json()
    assert set(body) == {"user_id", "role_id", "role_name", "assigned_at", "expires_at", "assigned_by"}
    assert body["user_id"] == user["id"]
    assert body["role_id"] == role["id"]
    assert body["role_name"] == "Auditors"
    assert body["expires_at"] == expires.replace("Z", "")[:23] + "Z"
    assert body["assigned_by"] == "usr_01HZZZZZZZZZZZZZZZZZZZZZZZ"

    listed = acme.api.get(f"/users/{user['id']}/roles", token=acme.access).json()["data"]
    assert [(r["role_id"], r["role_name"]) for r in listed] == [("role_member", "member"), (role["id"], "Auditors")]
    assert listed[1]["permissions"] == ["audit:read", "users:read"]
    assert set(listed[1]) == {"role_id", "role_name", "assigned_at", "expires_at", "permissions"}
    shown = acme.get(user["id"]).json()
    assert [r["id"] for r in shown["roles"]] == ["role_member", role["id"]]
    assert granted(acme, user["id"], "audit:read")
    filtered = acme.api.get("/users", token=acme.access, query={"role": role["id"]}).json()["data"]
    assert [u["id"] for u in filtered] == [user["id"]]

    again = assign(acme, user["id"], role["id"])
    assert again.status == 409
    assert again.error["code"] == "conflict"
    assert assign(acme, user["id"], "viewer").status == 201  # by system-role name


def test_assignment_refusals(acme: Tenant) -> None:
    user = active_user(acme, "refused@example.com")
    assert assign(acme, user["id"], "role_01HNOSUCHROLE0000000000000").status == 404
    assert assign(acme, "usr_01HNOSUCHUSER0000000000000", "viewer").status == 404
    for expires in ("2001-01-01T00:00:00Z", "tomorrow", in_seconds(3600).replace("Z", "")):
        past = assign(acme, user["id"], "viewer", expires_at=expires)
        assert past.status == 400, expires
        assert past.error["details"][0]["field"] == "expires_at"
    assert assign(acme, user["id"], "viewer", colour="red").status == 400

    acme.api.post(f"/users/{user['id']}/deactivate", token=acme.access)
    suspended = assign(acme, user["id"], "viewer")
    assert suspended.status == 422
    assert suspended.error["code"] == "user_suspended"
    acme.api.delete(f"/users/{user['id']}", token=acme.access)
    assert assign(acme, user["id"], "viewer").status == 410
    assert unassign(acme, user["id"], "member").status == 410


def test_removing_an_assignment_answers_204_then_404(acme: Tenant) -> None:
    user = active_user(acme, "removed@example.com")
    assert assign(acme, user["id"], "viewer").status == 201
    assert unassign(acme, user["id"], "viewer").status == 204
    again = unassign(acme, user["id"], "role_viewer")
    assert again.status == 404
    assert again.error["code"] == "not_found"
    assert [r["role_id"] for r in acme.api.get(f"/users/{user['id']}/roles", token=acme.access).json()["data"]] == [
        "role_member"
    ]


def test_an_expired_assignment_grants_nothing_from_the_moment_it_expires(acme: Tenant) -> None:
    role = new_role(acme, "Temps", ["audit:read"])
    user = active_user(acme, "temp@example.com")
    assert assign(acme, user["id"], role["id"], expires_at=in_seconds(1.5)).status == 201
    assert granted(acme, user["id"], "audit:read")
    assert acme.api.get("/users", token=acme.access, query={"role": role["id"]}).json()["data"]
    time.sleep(1.6)
    assert not granted(acme, user["id"], "audit:read")
    assert [r["role_id"] for r in acme.api.get(f"/users/{user['id']}/roles", token=acme.access).json()["data"]] == [
        "role_member"
    ]
    assert [r["id"] for r in acme.get(user["id"]).json()["roles"]] == ["role_member"]
    assert acme.api.get("/users", token=acme.access, query={"role": role["id"]}).json()["data"] == []
    assert unassign(acme, user["id"], role["id"]).status == 404
    # Nobody holds it any more: the role can go, and assigning it again starts afresh.
    assert assign(acme, user["id"], role["id"]).status == 201
    assert unassign(acme, user["id"], role["id"]).status == 204
    assert acme.api.delete(f"/roles/{role['id']}", token=acme.access).status == 204


def test_a_role_still_assigned_cannot_be_deleted(acme: Tenant) -> None:
    role = new_role(acme)
    holders = [active_user(acme, f"holder{i}@example.com") for i in range(2)]
    for user in holders:
        assert assign(acme, user["id"], role["id"]).status == 201
    refused = acme.api.delete(f"/roles/{role['id']}", token=acme.access)
    assert refused.status == 409
    assert refused.error["assigned_user_count"] == 2
    assert "2 user" in refused.error["message"]
    assert unassign(acme, holders[0]["id"], role["id"]).status == 204
    acme.api.delete(f"/users/{holders[1]['id']}", token=acme.access)  # archived users hold nothing
    assert acme.api.delete(f"/roles/{role['id']}", token=acme.access).status == 204


def test_role_changes_write_audit_entries_and_events(acme: Tenant) -> None:
    user = active_user(acme, "evented@example.com")
    assign(acme, user["id"], "viewer")
    unassign(acme, user["id"], "viewer")
    log = acme.api.get("/audit-log", token=acme.access, query={"target_id": user["id"]}).json()["data"]
    assert [entry["action"] for entry in log][:2] == ["role.removed", "role.assigned"]
    assert log[1]["changes"]["role_id"] == "role_viewer"
    events = [e for e in outbox(acme.org_id) if e["type"].startswith("role.")]
    assert [e["type"] for e in events] == ["role.assigned", "role.removed"]
    assert events[0]["data"]["user_id"] == user["id"]
    assert events[0]["data"]["role_name"] == "viewer"
    assert events[0]["metadata"]["request_id"].startswith("req_")


# --------------------------------------------------------------------------- bulk
def test_bulk_assign_reports_each_user_and_one_bad_user_blocks_nobody(
    acme: Tenant, globex: Tenant, dynamodb_calls: list[str]
) -> None:
    role = new_role(acme, "Beta")
    users = [active_user(acme, f"bulk{i}@example.com") for i in range(3)]
    suspended = active_user(acme, "bulk-suspended@example.com")
    acme.api.post(f"/users/{suspended['id']}/deactivate", token=acme.access)
    foreign = active_user(globex, "foreign@example.com")
    assert assign(acme, users[2]["id"], role["id"]).status == 201
    ids = [users[0]["id"], "usr_01HNOSUCHUSER0000000000000", suspended["id"], users[1]["id"], foreign["id"]]
    ids.append(users[2]["id"])

    dynamodb_calls.clear()
    response = acme.api.post(
        "/users/bulk/roles",
        token=acme.access,
        json_body={"user_ids": ids, "role_id": role["id"], "action": "assign", "expires_at": in_seconds(3600)},
    )
    assert response.status == 200, response.body
    body = response.json()
    assert (body["processed"], body["successful"], body["failed"]) == (6, 2, 4)
    results = {result["user_id"]: result for result in body["results"]}
    assert [result["user_id"] for result in body["results"]] == ids
    assert results[users[0]["id"]] == {
        "user_id": users[0]["id"],
        "status": "success",
        "message": "Role assigned successfully.",
    }
    assert results["usr_01HNOSUCHUSER0000000000000"]["error"]["code"] == "user_not_found"
    assert results[suspended["id"]]["error"]["code"] == "user_suspended"
    assert results[foreign["id"]]["error"]["code"] == "user_not_found"
    assert results[users[2]["id"]]["error"]["code"] == "already_assigned"
    assert all(set(r["error"]) == {"code", "message"} for r in body["results"] if r["status"] == "error")
    # Batched: one read for every user, one transaction for every change.
    assert dynamodb_calls.count("BatchGetItem") == 1  # the users (the caller was the rate-limit count)
    assert dynamodb_calls.count("TransactWriteItems") == 1
    assert granted(acme, users[1]["id"], "audit:read")

    removed = acme.api.request(
        "PUT",
        "/users/bulk/roles",
        token=acme.access,
        json_body={"user_ids": [users[0]["id"], suspended["id"]], "role_id": role["id"], "action": "remove"},
    ).json()
    assert [r["status"] for r in removed["results"]] == ["success", "error"]
    assert removed["results"][1]["error"]["code"] == "not_assigned"
    assert not granted(acme, users[0]["id"], "audit:read")


@pytest.mark.parametrize(
    "body",
    [
        {"user_ids": [], "role_id": "viewer", "action": "assign"},
        {"user_ids": [f"usr_{i}" for i in range(101)], "role_id": "viewer", "action": "assign"},
        {"user_ids": ["usr_1", "usr_1"], "role_id": "viewer", "action": "assign"},
        {"user_ids": ["usr_1"], "role_id": "viewer", "action": "promote"},
        {"user_ids": ["usr_1"], "action": "assign"},
    ],
)
def test_bad_bulk_requests_are_refused(acme: Tenant, body: dict[str, Any]) -> None:
    response = acme.api.post("/users/bulk/roles", token=acme.access, json_body=body)
    assert response.status == 400, response.body


def test_bulk_of_many_users_spreads_over_few_transactions(acme: Tenant, dynamodb_calls: list[str]) -> None:
    users = [acme.user(f"many{i}@example.com", send_welcome_email=False) for i in range(40)]
    dynamodb_calls.clear()
    response = acme.api.post(
        "/users/bulk/roles",
        token=acme.access,
        json_body={"user_ids": [u["id"] for u in users], "role_id": "viewer", "action": "assign"},
    )
    assert response.json()["successful"] == 40
    # Each assignment is 3 items (user, audit entry, event), a transaction holds up to 100.
    assert dynamodb_calls.count("TransactWriteItems") == 2
    listed = acme.api.get("/users", token=acme.access, query={"role": "viewer", "limit": "100"}).json()["data"]
    assert len(listed) == 40


# --------------------------------------------------------------------------- last admin
def violation(response: ApiResponse) -> dict[str, Any]:
    assert response.status == 422, response.body
    assert response.error["code"] == "data_consistency_violation"
    (only,) = response.error["violations"]
    assert only["rule"] == "MINIMUM_ADMIN_COUNT"
    return dict(only)


def test_the_last_active_admin_cannot_be_removed_suspended_archived_or_purged(acme: Tenant) -> None:
    admin = active_user(acme, "only-admin@example.com", role="admin")
    assert violation(unassign(acme, admin["id"], "admin"))["current_admin_count"] == 1
    assert violation(acme.api.post(f"/users/{admin['id']}/deactivate", token=acme.access))
    assert violation(acme.patch(admin["id"], {"status": "suspended"}))
    assert violation(acme.api.delete(f"/users/{admin['id']}", token=acme.access))
    assert violation(acme.api.delete(f"/users/{admin['id']}", token=acme.access, query={"force": "true"}))
    bulk = acme.api.post(
        "/users/bulk/roles",
        token=acme.access,
        json_body={"user_ids": [admin["id"]], "role_id": "admin", "action": "remove"},
    ).json()
    assert bulk["results"][0]["error"]["code"] == "data_consistency_violation"
    assert acme.get(admin["id"]).json()["status"] == "active"  # nothing was changed

    second = active_user(acme, "second-admin@example.com", role="admin")
    assert unassign(acme, admin["id"], "admin").status == 204  # another admin remains
    assert violation(acme.api.delete(f"/users/{second['id']}", token=acme.access))


def test_only_active_unexpired_admins_count(acme: Tenant) -> None:
    # An organization that never had an active admin is not blocked.
    pending = acme.user("pending-admin@example.com", role="admin", send_welcome_email=False)
    assert unassign(acme, pending["id"], "admin").status == 204

    admin = active_user(acme, "steady@example.com", role="admin")
    temp = active_user(acme, "temp-admin@example.com")
    assert assign(acme, temp["id"], "admin", expires_at=in_seconds(1.5)).status == 201
    # An expiring assignment cannot be what keeps the organization administered.
    assert violation(unassign(acme, admin["id"], "admin"))["current_admin_count"] == 2
    time.sleep(1.6)
    # temp's admin role expired: admin is the only one left.
    assert violation(unassign(acme, admin["id"], "admin"))["current_admin_count"] == 1


def test_bulk_removal_of_every_admin_keeps_the_last(acme: Tenant) -> None:
    admins = [active_user(acme, f"admin{i}@example.com", role="admin") for i in range(3)]
    body = acme.api.post(
        "/users/bulk/roles",
        token=acme.access,
        json_body={"user_ids": [a["id"] for a in admins], "role_id": "admin", "action": "remove"},
    ).json()
    assert [r["status"] for r in body["results"]] == ["success", "success", "error"]
    assert body["results"][2]["error"]["code"] == "data_consistency_violation"
    holders = acme.api.get("/users", token=acme.access, query={"role": "admin"}).json()["data"]
    assert [u["id"] for u in holders] == [admins[2]["id"]]


def test_two_demotions_that_read_the_same_roster_cannot_both_succeed(
    acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made deterministic: the second demotion checks against the roster as it was
    before the first one committed, as a concurrent request would. Its transaction fails on the
    roster's version, it checks again and is refused."""
    from umapi.users.admin_roster import AdminRoster

    first, second = (active_user(acme, f"racer{i}@example.com", role="admin") for i in range(2))
    real_read = AdminRoster._read
    stale = [real_read(AdminRoster(boto3.client("dynamodb"), os.environ["TABLE_NAME"]), acme.org_id)]
    assert len(stale[0][0]) == 2
    assert unassign(acme, first["id"], "admin").status == 204
    monkeypatch.setattr(AdminRoster, "_read", lambda self, org_id: stale.pop() if stale else real_read(self, org_id))
    # The roster also comes with the user when the admin role is named (one BatchGetItem)
    from umapi.users import repository

    real_from_item = repository.roster_from_item  # type: ignore[attr-defined]
    monkeypatch.setattr(repository, "roster_from_item", lambda item: stale.pop() if stale else real_from_item(item))
    violation(unassign(acme, second["id"], "admin"))
    assert not stale, "the demotion checked against the stale roster first"
    roles = acme.api.get(f"/users/{second['id']}/roles", token=acme.access).json()["data"]
    assert [r["role_id"] for r in roles] == ["role_member", "role_admin"][1:]


# --------------------------------------------------------------------------- user tokens
def test_role_changes_take_effect_on_the_next_request_of_an_existing_token(
    api: InProcessApi, platform: AdminCredentials
) -> None:
    from tests.support.login import code_from, exchange, login_world, sign_in

    world = login_world(api, platform)
    tenant, user_id = world.tenant, world.user["id"]
    access = exchange(world, world.web, code_from(sign_in(world, world.web))).json()["access_token"]
    assert api.get("/users", token=access).status == 200

    assert unassign(tenant, user_id, "admin").status == 204  # the keeper admin remains
    refused = api.get("/users", token=access)
    assert refused.status == 403
    assert refused.error["required_permission"] == "users:read"

    role = new_role(tenant, "Readers", ["users:read"])
    assert assign(tenant, user_id, role["id"]).status == 201
    assert api.get("/users", token=access).status == 200

    patched = api.patch(f"/roles/{role['id']}", token=tenant.access, json_body={"permissions": ["audit:read"]})
    assert patched.status == 200
    assert api.get("/users", token=access).status == 403
    assert api.get("/audit-log", token=access).status == 200

    assert assign(tenant, user_id, "viewer", expires_at=in_seconds(1.5)).status == 201
    assert api.get("/users", token=access).status == 200
    time.sleep(1.6)
    assert api.get("/users", token=access).status == 403


def test_a_user_created_with_a_custom_role_holds_it(acme: Tenant) -> None:
    role = new_role(acme, "Reviewers", ["audit:read", "users:read"])
    user = acme.user("custom@example.com", role=role["id"])
    assert [r["name"] for r in user["roles"]] == ["Reviewers"]
    shown = acme.get(user["id"], query={"include": "permissions"}).json()
    assert shown["permissions"] == ["audit:read", "users:read"]
    assert acme.api.delete(f"/roles/{role['id']}", token=acme.access).error["assigned_user_count"] == 1
    unknown = acme.create(email="nobody@example.com", name="x", role="role_01HNOSUCHROLE0000000000000")
    assert unknown.status == 400


def test_an_admin_assignment_reads_the_roster_with_the_user(acme: Tenant, dynamodb_calls: list[str]) -> None:
    active_user(acme, "first-admin@example.com", role="admin")  # so that the second one may go again
    user = active_user(acme, "future-admin@example.com")
    assign(acme, user["id"], "viewer")  # warm container
    dynamodb_calls.clear()
    assert assign(acme, user["id"], "admin").status == 201
    assert dynamodb_calls == ["UpdateItem", "BatchGetItem", "TransactWriteItems"]
    dynamodb_calls.clear()
    assert unassign(acme, user["id"], "role_admin").status == 204
    assert dynamodb_calls == ["UpdateItem", "BatchGetItem", "TransactWriteItems"]


def test_an_assignment_is_one_read_and_one_transaction(acme: Tenant, dynamodb_calls: list[str]) -> None:
    role = new_role(acme)
    user = active_user(acme, "cheap@example.com")
    assign(acme, user["id"], "viewer")  # warm container
    dynamodb_calls.clear()
    assert assign(acme, user["id"], role["id"]).status == 201
    assert dynamodb_calls == ["UpdateItem", "BatchGetItem", "TransactWriteItems"]
    dynamodb_calls.clear()
    assert unassign(acme, user["id"], role["id"]).status == 204
    assert dynamodb_calls == ["UpdateItem", "BatchGetItem", "TransactWriteItems"]
