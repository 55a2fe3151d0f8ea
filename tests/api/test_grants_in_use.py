"""Paths each function's grants exist for (a run of every test fails on a grant nothing used,
tests/support/iam.py): a user holding a custom role, signed in and served by every API
function; idempotent POSTs of every API function stored, replayed and, when refused, forgotten;
a platform admin acting on a user of any organization; a job row that removes a role."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_jobs import create_job, errors, job, pump
from tests.support.api import InProcessApi
from tests.support.flows import admin_token
from tests.support.jobs import JobPump
from tests.support.login import PASSWORD, LoginWorld, code_from, exchange, sign_in
from tests.support.users import Tenant, verification_token
from umapi.bootstrap import AdminCredentials

__all__ = ["pump"]  # the fixture: small chunks and frequent flushes


def test_a_user_holding_a_custom_role_signs_in_and_is_served_by_every_api_function(world: LoginWorld) -> None:
    # Given a user whose only role is a custom one (the sign-in reads it to cap the token)
    tenant = world.tenant
    reader = ["users:read", "roles:read", "webhooks:read", "clients:read"]
    role = world.api.post("/roles", token=tenant.access, json_body={"name": "Reader", "permissions": reader}).json()
    user = tenant.user("reader@example.com", name="Reader", role=role["id"], password=PASSWORD)
    assert world.api.post(f"/users/{user['id']}/activate", token=tenant.access).status == 200
    answer = exchange(world, world.web, code_from(sign_in(world, world.web, email="reader@example.com")))
    assert answer.status == 200, answer.body
    assert set(answer.json()["scope"].split()) == set(reader)
    # Then each API function serves the role's permissions, read on every request
    access = answer.json()["access_token"]
    for path in ("/users", "/roles", "/webhooks", "/jobs", "/clients"):
        assert world.api.get(path, token=access).status == 200, path
    assert world.api.get("/audit-log", token=access).status == 403  # not in the role


POSTS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    # function's route, a body it accepts, and one it refuses inside the service (after the key is held)
    ("OrgsFunction", "/clients", {"name": "c", "scopes": ["users:read"]}, {"name": "c", "scopes": ["platform:admin"]}),
    (
        "RolesFunction",
        "/roles",
        {"name": "Auditor", "permissions": ["audit:read"]},
        {"name": "auditor", "permissions": []},
    ),
    (
        "WebhooksFunction",
        "/webhooks",
        {"url": "https://hooks.example.com/a", "events": ["user.created"]},
        {"url": "https://10.0.0.1/a", "events": ["user.created"]},
    ),
    (
        "UsersFunction",
        "/users",
        {"email": "idem@example.com", "name": "Idem"},
        {"email": "idem@example.com", "name": "Again"},
    ),
    (
        "JobsFunction",
        "/jobs",
        {"type": "user_export", "data": {"format": "jsonl"}},
        {"type": "bulk_user_create", "data": {"users": [{}]}, "callback_url": "https://10.0.0.1/cb"},
    ),
]


@pytest.mark.parametrize(("function_id", "path", "accepted", "refused"), POSTS, ids=[post[0] for post in POSTS])
def test_an_idempotent_post_is_stored_replayed_and_a_refusal_forgotten(
    acme: Tenant, function_id: str, path: str, accepted: dict[str, Any], refused: dict[str, Any]
) -> None:
    api = acme.api
    first = api.post(path, token=acme.access, json_body=accepted, headers={"Idempotency-Key": f"{function_id}-1"})
    assert first.status in (201, 202), first.body
    again = api.post(path, token=acme.access, json_body=accepted, headers={"Idempotency-Key": f"{function_id}-1"})
    assert (again.status, again.header("Idempotent-Replayed")) == (first.status, "true")
    assert again.json()["id"] == first.json()["id"]
    # A refusal is not stored: the same key, sent again, is answered afresh
    for _ in range(2):
        refusal = api.post(path, token=acme.access, json_body=refused, headers={"Idempotency-Key": f"{function_id}-2"})
        assert refusal.status in (400, 403, 409), refusal.body
        assert refusal.header("Idempotent-Replayed") is None


def test_a_platform_admin_assigns_a_role_to_a_user_of_any_organization(
    acme: Tenant, platform: AdminCredentials
) -> None:
    user = acme.user("anywhere@example.com", send_welcome_email=False)
    admin = admin_token(acme.api, platform)
    assigned = acme.api.post(f"/users/{user['id']}/roles", token=admin, json_body={"role_id": "viewer"})
    assert assigned.status == 201, assigned.body
    assert "role_viewer" in {role["id"] for role in acme.get(user["id"]).json()["roles"]}


def test_a_role_assignment_job_removes_roles(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    users = [acme.user(f"r{i}@example.com", send_welcome_email=False) for i in range(2)]
    for user in users:
        assert (
            acme.api.post(f"/users/{user['id']}/roles", token=acme.access, json_body={"role_id": "viewer"}).status
            == 201
        )
    ids = [user["id"] for user in users]
    removal = create_job(
        acme, {"type": "bulk_role_assignment", "data": {"user_ids": ids, "role_id": "viewer", "action": "remove"}}
    )
    pump.pump()
    assert job(acme, removal["id"])["successful"] == 2, errors(acme, removal["id"])
    assert all("role_viewer" not in {r["id"] for r in acme.get(i).json()["roles"]} for i in ids)
    listed = acme.api.get("/users", token=acme.access, query={"role": "viewer"}).json()["data"]
    assert not {user["id"] for user in listed} & set(ids)


def test_a_created_row_sends_its_welcome_email_as_post_users_does(
    api: InProcessApi, acme: Tenant, pump: JobPump
) -> None:
    created = create_job(
        acme, {"type": "bulk_user_create", "data": {"users": [{"email": "w@example.com", "name": "W"}]}}
    )
    pump.pump()
    assert job(acme, created["id"])["successful"] == 1
    token = verification_token("w@example.com")  # the link's token, from the verification email
    verified = api.post("/auth/verify-email", json_body={"token": token, "password": PASSWORD})
    assert (verified.status, verified.json()["status"]) == (200, "active")
