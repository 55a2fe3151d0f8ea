"""Idempotency-Key on POST: replays, reuse with another body, scoping per client, errors not stored."""

from __future__ import annotations

from tests.support.api import InProcessApi
from tests.support.flows import admin_token, new_client, token
from tests.support.users import Tenant
from umapi.access.permissions import PERMISSIONS
from umapi.bootstrap import AdminCredentials


def create(acme: Tenant, key: str, email: str, access: str | None = None) -> object:
    return acme.api.post(
        "/users",
        token=access or acme.access,
        json_body={"email": email, "name": "Idem", "send_welcome_email": False},
        headers={"Idempotency-Key": key},
    )


def test_a_repeat_replays_the_first_answer_and_changes_nothing(acme: Tenant) -> None:
    first = create(acme, "key-1", "idem@example.com")
    again = create(acme, "key-1", "idem@example.com")
    assert first.status == again.status == 201  # type: ignore[attr-defined]
    assert again.json() == first.json()  # type: ignore[attr-defined]
    assert again.header("Idempotent-Replayed") == "true"  # type: ignore[attr-defined]
    assert first.header("Idempotent-Replayed") is None  # type: ignore[attr-defined]
    assert again.header("Location") == first.header("Location")  # type: ignore[attr-defined]
    users = acme.api.get("/users", token=acme.access).json()["data"]
    assert [u["email"] for u in users] == ["idem@example.com"]


def test_the_same_key_with_another_body_is_422(acme: Tenant) -> None:
    create(acme, "key-2", "first@example.com")
    reused = create(acme, "key-2", "second@example.com")
    assert reused.status == 422  # type: ignore[attr-defined]
    assert reused.error["code"] == "idempotency_key_reused"  # type: ignore[attr-defined]


def test_keys_belong_to_their_client(api: InProcessApi, platform: AdminCredentials, acme: Tenant) -> None:
    other = new_client(api, admin_token(api, platform), acme.org_id, list(PERMISSIONS))
    create(acme, "shared", "mine@example.com")
    theirs = create(acme, "shared", "theirs@example.com", token(api, other.client_id, other.client_secret))
    assert theirs.status == 201  # type: ignore[attr-defined]
    assert theirs.json()["email"] == "theirs@example.com"  # type: ignore[attr-defined]


def test_errors_are_not_stored(acme: Tenant) -> None:
    acme.user("taken@example.com")
    assert create(acme, "key-3", "taken@example.com").status == 409  # type: ignore[attr-defined]
    acme.api.delete(
        f"/users/{acme.api.get('/users', token=acme.access).json()['data'][0]['id']}",
        token=acme.access,
        query={"force": "true"},
    )
    assert create(acme, "key-3", "taken@example.com").status == 201  # type: ignore[attr-defined]


def test_other_post_routes_are_idempotent_too(api: InProcessApi, platform: AdminCredentials) -> None:
    admin = admin_token(api, platform)
    first = api.post("/orgs", token=admin, json_body={"name": "Once"}, headers={"Idempotency-Key": "org-1"})
    again = api.post("/orgs", token=admin, json_body={"name": "Once"}, headers={"Idempotency-Key": "org-1"})
    assert again.json()["id"] == first.json()["id"]
    names = [org["name"] for org in api.get("/orgs", token=admin).json()["data"]]
    assert names.count("Once") == 1
