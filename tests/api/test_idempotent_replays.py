"""Idempotent replays answer only the caller that made the first request, and only while it may
still make it. (The adversarial review's findings, each tried again as an attacker would; every
test failed before its fix.)"""

from __future__ import annotations

from tests.support.api import InProcessApi
from tests.support.flows import admin_token, new_client, token
from tests.support.login import (
    PASSWORD,
    LoginWorld,
    code_from,
    exchange,
    sign_in,
)
from tests.support.security import client_in, forbidden
from tests.support.users import Tenant
from umapi.access.permissions import PERMISSIONS
from umapi.bootstrap import AdminCredentials

ALL = list(PERMISSIONS)


# ============================================================== 3. idempotent replays across callers
def test_a_replay_never_answers_another_caller(api: InProcessApi, platform: AdminCredentials, acme: Tenant) -> None:
    # Given an admin who created a client with an Idempotency-Key
    headers = {"Idempotency-Key": "create-the-ci-client"}
    body = {"name": "ci", "scopes": ["users:read"]}
    first = api.post("/clients", token=acme.access, json_body=body, headers=headers)
    assert first.status == 201
    # When a member replays the same key and body, it is refused before any stored answer
    member = client_in(api, platform, acme.org_id, ["users:read", "roles:read"])
    replay = api.post("/clients", token=member, json_body=body, headers=headers)
    forbidden(replay, "clients:write")
    # When another client that may create clients sends it, it is its own request, not a replay
    writer = client_in(api, platform, acme.org_id, ["clients:write", "users:read"])
    own = api.post("/clients", token=writer, json_body=body, headers=headers)
    assert own.status == 201
    assert own.header("Idempotent-Replayed") is None
    assert own.json()["client_secret"] != first.json()["client_secret"]
    # And the same caller gets its own answer back
    again = api.post("/clients", token=acme.access, json_body=body, headers=headers)
    assert again.header("Idempotent-Replayed") == "true"
    assert again.json()["client_secret"] == first.json()["client_secret"]


def test_a_replay_belongs_to_the_user_not_to_the_client_it_came_through(world: LoginWorld) -> None:
    # Given an admin and a member signed in through the same client
    member = world.tenant.user("plain@example.com", name="Plain", password=PASSWORD)
    assert world.api.post(f"/users/{member['id']}/activate", token=world.tenant.access).status == 200
    admin_access = exchange(world, world.web, code_from(sign_in(world, world.web))).json()["access_token"]
    member_access = exchange(world, world.web, code_from(sign_in(world, world.web, email="plain@example.com"))).json()[
        "access_token"
    ]
    # When the admin creates a client with a key, and the member replays that key and body
    headers, body = {"Idempotency-Key": "shared-key"}, {"name": "ops", "scopes": []}
    created = world.api.post("/clients", token=admin_access, json_body=body, headers=headers)
    assert created.status == 201
    replay = world.api.post("/clients", token=member_access, json_body=body, headers=headers)
    # Then the member gets its own answer (403), never the admin's secret
    forbidden(replay, "clients:write")
    assert created.json()["client_secret"] not in replay.body


def test_a_replay_is_refused_once_the_caller_lost_the_permission(
    api: InProcessApi, platform: AdminCredentials, acme: Tenant
) -> None:
    admin = admin_token(api, platform)
    creator = new_client(api, admin, acme.org_id, ["users:create", "users:read", "roles:read"])
    access = token(api, creator.client_id, creator.client_secret)
    headers = {"Idempotency-Key": "onboard-1"}
    body = {"email": "onboard@example.com", "name": "On Board", "role": "member"}
    assert api.post("/users", token=access, json_body=body, headers=headers).status == 201
    # The member role needs users:read and roles:read to hand out; the client loses roles:read
    assert (
        api.patch(
            f"/clients/{creator.client_id}",
            token=admin,
            json_body={"scopes": ["users:create", "users:read"]},
            query={"org_id": acme.org_id},
        ).status
        == 200
    )
    forbidden(api.post("/users", token=access, json_body=body, headers=headers), "roles:read")


def test_idempotency_keys_longer_than_255_characters_are_a_validation_error(acme: Tenant) -> None:
    for key in ("k" * 256, " "):
        response = acme.api.post(
            "/users",
            token=acme.access,
            json_body={"email": "k@example.com", "name": "K"},
            headers={"Idempotency-Key": key},
        )
        assert response.status == 400, key
        assert response.error["code"] == "validation_error"
    assert acme.api.get("/users", token=acme.access).json()["data"] == []
