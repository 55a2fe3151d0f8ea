"""Users through the users function: docs/api.md §4, unhappy paths included."""

from __future__ import annotations

from typing import Any

import pytest

from devserver.outbox import sent_emails
from tests.support.api import InProcessApi
from tests.support.users import Tenant, verification_token
from umapi.bootstrap import AdminCredentials

USER_FIELDS = {
    "sso_provider",  # docs/api.md §12: null until the user signs in through an SSO connection
    "mfa_enabled",  # docs/api.md §11
    "mfa_factors",
    "id",
    "org_id",
    "email",
    "name",
    "roles",
    "status",
    "email_verified",
    "pending_email",
    "phone",
    "department",
    "avatar_url",
    "metadata",
    "created_at",
    "updated_at",
    "last_login",
    "archived_at",
    "version",
}


# --------------------------------------------------------------------------- create
def test_create_returns_the_full_user_with_defaults(acme: Tenant) -> None:
    response = acme.create(email="  Jane.Doe@Example.com ", name="Jane Doe")
    assert response.status == 201
    user = response.json()
    assert set(user) == USER_FIELDS
    assert user["id"].startswith("usr_")
    assert user["org_id"] == acme.org_id
    assert user["email"] == "Jane.Doe@Example.com"
    assert user["status"] == "pending_verification"
    assert user["email_verified"] is False
    assert [role["name"] for role in user["roles"]] == ["member"]
    assert user["roles"][0]["id"] == "role_member"
    assert user["metadata"] == {}
    assert user["last_login"] is None
    assert user["version"] == 1
    assert user["sso_provider"] is None
    assert response.header("Location").endswith(f"/users/{user['id']}")  # type: ignore[union-attr]
    assert response.header("ETag")
    assert "password" not in response.body


def test_create_sends_a_verification_email_unless_told_not_to(acme: Tenant) -> None:
    acme.user("welcome@example.com")
    assert verification_token("welcome@example.com")
    acme.user("quiet@example.com", send_welcome_email=False)
    assert all(email["to"] != "quiet@example.com" for email in sent_emails("us-east-1"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "No Email"}, "email"),
        ({"email": "not-an-email", "name": "x"}, "email"),
        ({"email": "a" * 250 + "@x.io", "name": "x"}, "email"),
        ({"email": "a@example.com"}, "name"),
        ({"email": "a@example.com", "name": ""}, "name"),
        ({"email": "a@example.com", "name": "x" * 101}, "name"),
        ({"email": "a@example.com", "name": "x", "password": "short1!A"[:7]}, "password"),
        ({"email": "a@example.com", "name": "x", "password": "alllowercase1!"}, "password"),
        ({"email": "a@example.com", "name": "x", "phone": "555-1234"}, "phone"),
        ({"email": "a@example.com", "name": "x", "avatar_url": "http://x.example/a.png"}, "avatar_url"),
        ({"email": "a@example.com", "name": "x", "metadata": {str(i): "v" for i in range(11)}}, "metadata"),
        ({"email": "a@example.com", "name": "x", "metadata": {"k": 1}}, "metadata.k"),
        ({"email": "a@example.com", "name": "x", "status": "active"}, "status"),
        ({"email": "a@example.com", "name": "x", "id": "usr_mine"}, "id"),
        ({"email": "a@example.com", "name": "x", "role": "overlord"}, "role"),
        ({"email": "a@example.com", "name": "x", "send_welcome_email": "yes"}, "send_welcome_email"),
    ],
)
def test_invalid_creates_name_the_field(acme: Tenant, body: dict[str, Any], field: str) -> None:
    response = acme.create(**body)
    assert response.status == 400
    error = response.error
    assert error["code"] == "validation_error"
    assert field in [detail["field"] for detail in error["details"]], error["details"]
    assert all(detail["message"] and detail["code"] for detail in error["details"])


def test_email_is_unique_per_org_case_insensitively(acme: Tenant, globex: Tenant) -> None:
    acme.user("dup@example.com")
    taken = acme.create(email="DUP@Example.COM", name="Again")
    assert taken.status == 409
    assert taken.error["code"] == "conflict"
    assert taken.error["conflicting_field"] == "email"
    assert globex.create(email="dup@example.com", name="Elsewhere").status == 201


def test_a_strong_password_is_accepted_and_never_shown(acme: Tenant) -> None:
    response = acme.create(email="pw@example.com", name="Pw", password="Correct-Horse-9")
    assert response.status == 201
    assert "Correct-Horse-9" not in response.body
    assert "hash" not in response.body


# --------------------------------------------------------------------------- read
def test_get_has_a_strong_etag_and_honours_if_none_match(acme: Tenant) -> None:
    user = acme.user("etag@example.com")
    first = acme.get(user["id"])
    assert first.status == 200
    assert first.json() == user
    etag = first.header("ETag")
    assert etag
    assert etag.startswith('"')
    assert first.header("Cache-Control") == "private, no-cache"
    cached = acme.get(user["id"], headers={"If-None-Match": etag})
    assert cached.status == 304
    assert cached.body == ""
    assert acme.get(user["id"], headers={"If-None-Match": '"stale"'}).status == 200


def test_include_and_fields_shape_the_answer(acme: Tenant) -> None:
    user = acme.user("shape@example.com", role="admin")
    with_permissions = acme.get(user["id"], query={"include": "permissions,audit_log"}).json()
    assert "users:delete" in with_permissions["permissions"]
    assert [entry["action"] for entry in with_permissions["audit_log"]] == ["user.created"]
    narrow = acme.get(user["id"], query={"fields": "email,name"}).json()
    assert narrow == {"id": user["id"], "email": user["email"], "name": user["name"]}
    assert acme.get(user["id"], query={"fields": "email,password_hash"}).status == 400
    assert acme.get(user["id"], query={"include": "secrets"}).status == 400


def test_me_with_a_client_token_is_404(acme: Tenant) -> None:
    response = acme.api.get("/users/me", token=acme.access)
    assert response.status == 404


def test_unknown_user_is_404(acme: Tenant) -> None:
    for user_id in ("usr_01HNOSUCHUSER0000000000000", "nonsense"):
        response = acme.get(user_id)
        assert response.status == 404
        assert response.error["code"] == "not_found"


# --------------------------------------------------------------------------- merge patch
def test_patch_is_json_merge_patch(acme: Tenant) -> None:
    user = acme.user("merge@example.com", phone="+14155550123", department="Ops", metadata={"a": "1", "b": "2"})
    response = acme.patch(user["id"], {"name": "Renamed", "phone": None, "metadata": {"a": None, "c": "3"}})
    assert response.status == 200
    patched = response.json()
    assert patched["name"] == "Renamed"
    assert patched["phone"] is None  # null clears
    assert patched["department"] == "Ops"  # omitted: unchanged
    assert patched["metadata"] == {"b": "2", "c": "3"}  # merged key by key
    assert patched["version"] == user["version"] + 1
    assert acme.patch(user["id"], {"metadata": None}).json()["metadata"] == {}


def test_merge_patch_media_type_is_accepted(acme: Tenant) -> None:
    user = acme.user("rfc7396@example.com", department="Ops")
    response = acme.api.request(
        "PATCH",
        f"/users/{user['id']}",
        token=acme.access,
        raw_body='{"department": null}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status == 200
    assert response.json()["department"] is None
    broken = acme.api.request(
        "PATCH",
        f"/users/{user['id']}",
        token=acme.access,
        raw_body="{",
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert broken.status == 400


def test_put_is_an_alias_of_patch(acme: Tenant) -> None:
    user = acme.user("put@example.com", department="Ops")
    response = acme.api.request("PUT", f"/users/{user['id']}", token=acme.access, json_body={"name": "Via Put"})
    assert response.status == 200
    assert response.json()["name"] == "Via Put"
    assert response.json()["department"] == "Ops"


def test_patch_rejects_read_only_and_unknown_fields(acme: Tenant) -> None:
    user = acme.user("ro@example.com")
    for body in (
        {"id": "usr_x"},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"email_verified": True},
        {"nope": 1},
        {"status": "archived"},
        {"name": None},
    ):
        response = acme.patch(user["id"], body)
        assert response.status == 400, body


def test_stale_if_match_is_412_and_changes_nothing(acme: Tenant) -> None:
    user = acme.user("lock@example.com")
    etag = acme.get(user["id"]).header("ETag")
    assert acme.patch(user["id"], {"name": "First"}, headers={"If-Match": etag}).status == 200
    stale = acme.patch(user["id"], {"name": "Second"}, headers={"If-Match": etag})
    assert stale.status == 412
    assert stale.error["code"] == "precondition_failed"
    assert acme.get(user["id"]).json()["name"] == "First"


def test_email_change_waits_for_verification(acme: Tenant) -> None:
    user = acme.user("old@example.com")
    response = acme.patch(user["id"], {"email": "new@example.com"})
    assert response.status == 200
    assert response.json()["email"] == "old@example.com"
    assert response.json()["pending_email"] == "new@example.com"

    verified = acme.api.post("/auth/verify-email", json_body={"token": verification_token("new@example.com")})
    assert verified.status == 200
    assert verified.json()["email"] == "new@example.com"
    assert verified.json()["pending_email"] is None
    # the old address is free again, the new one taken
    assert acme.create(email="old@example.com", name="Reuse").status == 201
    assert acme.create(email="new@example.com", name="Clash").status == 409


def test_email_taken_meanwhile_is_409_and_nothing_applies(acme: Tenant) -> None:
    user = acme.user("mover@example.com")
    acme.patch(user["id"], {"email": "wanted@example.com"})
    change_token = verification_token("wanted@example.com")
    acme.user("wanted@example.com", name="Faster")
    response = acme.api.post("/auth/verify-email", json_body={"token": change_token})
    assert response.status == 409
    assert response.error["conflicting_field"] == "email"
    after = acme.get(user["id"]).json()
    assert after["email"] == "mover@example.com"
    assert after["pending_email"] == "wanted@example.com"


# --------------------------------------------------------------------------- verification
def test_verification_activates_and_sets_a_password_once(acme: Tenant) -> None:
    user = acme.user("verify@example.com")
    token = verification_token("verify@example.com")
    response = acme.api.post("/auth/verify-email", json_body={"token": token, "password": "Brand-New-Pass1"})
    assert response.status == 200
    assert response.json()["status"] == "active"
    assert response.json()["email_verified"] is True
    again = acme.api.post("/auth/verify-email", json_body={"token": token})
    assert again.status == 400
    assert again.error["code"] == "validation_error"
    assert again.error["details"][0]["field"] == "token"
    unknown = acme.api.post("/auth/verify-email", json_body={"token": "made-up"})
    assert unknown.status == 400
    assert acme.get(user["id"]).json()["version"] == 2


def test_verification_can_be_resent(acme: Tenant) -> None:
    user = acme.user("again@example.com", send_welcome_email=False)
    response = acme.api.post(f"/users/{user['id']}/verification", token=acme.access)
    assert response.status == 202
    assert (
        acme.api.post("/auth/verify-email", json_body={"token": verification_token("again@example.com")}).status == 200
    )
    assert acme.api.post(f"/users/{user['id']}/verification", token=acme.access).status == 409


# --------------------------------------------------------------------------- status, archive, purge
def test_deactivate_and_activate(acme: Tenant) -> None:
    user = acme.user("toggle@example.com")
    off = acme.api.post(f"/users/{user['id']}/deactivate", token=acme.access, json_body={"reason": "left"})
    assert off.status == 200
    assert off.json()["status"] == "suspended"
    on = acme.api.post(f"/users/{user['id']}/activate", token=acme.access)
    assert on.json()["status"] == "active"
    assert acme.patch(user["id"], {"status": "suspended"}).json()["status"] == "suspended"


def test_archive_then_gone(acme: Tenant) -> None:
    user = acme.user("bye@example.com")
    archived = acme.api.delete(f"/users/{user['id']}", token=acme.access)
    assert archived.status == 200
    assert archived.json()["status"] == "archived"
    assert archived.json()["archived_at"]
    again = acme.api.delete(f"/users/{user['id']}", token=acme.access)
    assert again.status == 410
    assert again.error["code"] == "gone"
    assert acme.patch(user["id"], {"name": "Ghost"}).status == 410
    assert acme.api.post(f"/users/{user['id']}/activate", token=acme.access).status == 410
    assert acme.get(user["id"]).json()["status"] == "archived"

    listed = [u["id"] for u in acme.api.get("/users", token=acme.access).json()["data"]]
    assert user["id"] not in listed
    archived_list = acme.api.get("/users", token=acme.access, query={"status": "archived"}).json()["data"]
    assert [u["id"] for u in archived_list] == [user["id"]]


def test_purge_removes_the_user_and_frees_the_email(acme: Tenant) -> None:
    user = acme.user("purge@example.com")
    assert acme.api.delete(f"/users/{user['id']}", token=acme.access, query={"force": "true"}).status == 204
    assert acme.get(user["id"]).status == 404
    assert acme.create(email="purge@example.com", name="New").status == 201
    audit = acme.api.get("/audit-log", token=acme.access, query={"target_id": user["id"]}).json()["data"]
    assert [entry["action"] for entry in audit] == ["user.purged", "user.created"]
    assert "purge@example.com" not in str(audit)


# --------------------------------------------------------------------------- permissions, bulk
def test_permission_check(acme: Tenant) -> None:
    user = acme.user("perm@example.com", role="viewer")
    granted = acme.api.get(f"/users/{user['id']}/permissions/users:read", token=acme.access)
    assert granted.status == 200
    assert granted.json() == {"permission": "users:read", "granted": True, "via_roles": ["viewer"]}
    assert acme.api.get(f"/users/{user['id']}/permissions/users:delete", token=acme.access).status == 404


def test_bulk_create_reports_each_row(acme: Tenant) -> None:
    acme.user("exists@example.com")
    rows = [
        {"email": "b1@example.com", "name": "One"},
        {"email": "broken", "name": "Two"},
        {"email": "exists@example.com", "name": "Three"},
        {"email": "b4@example.com", "name": "Four", "role": "viewer"},
    ]
    response = acme.api.post("/users/bulk", token=acme.access, json_body={"users": rows})
    assert response.status == 200
    body = response.json()
    assert (body["processed"], body["successful"], body["failed"]) == (4, 2, 2)
    assert [r["status"] for r in body["results"]] == ["success", "error", "error", "success"]
    assert body["results"][1]["error"]["code"] == "validation_error"
    assert body["results"][2]["error"]["code"] == "conflict"
    assert body["results"][3]["user"]["roles"][0]["name"] == "viewer"
    assert acme.api.post("/users/bulk", token=acme.access, json_body={"users": [{}] * 101}).status == 400


# --------------------------------------------------------------------------- tenancy and permissions
def test_another_org_sees_nothing_and_changes_nothing(acme: Tenant, globex: Tenant) -> None:
    user = globex.user("theirs@example.com", name="Theirs")
    for response in (
        acme.get(user["id"]),
        acme.patch(user["id"], {"name": "Pwned"}),
        acme.api.delete(f"/users/{user['id']}", token=acme.access),
        acme.api.delete(f"/users/{user['id']}", token=acme.access, query={"force": "true"}),
        acme.api.post(f"/users/{user['id']}/deactivate", token=acme.access),
        acme.api.get(f"/users/{user['id']}/permissions/users:read", token=acme.access),
    ):
        assert response.status == 404
    assert globex.get(user["id"]).json() == user


def test_platform_admin_finds_users_in_any_org(api: InProcessApi, platform: AdminCredentials, globex: Tenant) -> None:
    from tests.support.flows import admin_token

    user = globex.user("findme@example.com")
    response = api.get(f"/users/{user['id']}", token=admin_token(api, platform))
    assert response.status == 200
    assert response.json()["org_id"] == globex.org_id


def test_permissions_are_required(api: InProcessApi, platform: AdminCredentials, acme: Tenant) -> None:
    from tests.support.flows import admin_token, new_client, token

    reader = new_client(api, admin_token(api, platform), acme.org_id, ["users:read"])
    access = token(api, reader.client_id, reader.client_secret)
    denied = api.post("/users", token=access, json_body={"email": "x@example.com", "name": "X"})
    assert denied.status == 403
    assert denied.error["required_permission"] == "users:create"
    assert api.get("/users", token=access).status == 200


def test_cannot_give_a_role_above_your_own_permissions(
    api: InProcessApi, platform: AdminCredentials, acme: Tenant
) -> None:
    from tests.support.flows import admin_token, new_client, token

    creator = new_client(api, admin_token(api, platform), acme.org_id, ["users:create", "users:read", "roles:read"])
    access = token(api, creator.client_id, creator.client_secret)
    assert api.post("/users", token=access, json_body={"email": "m@example.com", "name": "M"}).status == 201
    escalation = api.post("/users", token=access, json_body={"email": "a@example.com", "name": "A", "role": "admin"})
    assert escalation.status == 403
