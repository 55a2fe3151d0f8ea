"""No escalation, through the public interface: a caller can neither take over nor give what it
does not hold (clients, users, roles, user tokens, webhook data, audit entries), and an expiring
admin never keeps an organization administered. (The adversarial review's findings, each tried
again as an attacker would; every test failed before its fix.)"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from tests.support.api import InProcessApi
from tests.support.flows import admin_token, new_client, token
from tests.support.login import (
    PASSWORD,
    REDIRECT,
    LoginWorld,
    authorize_params,
    code_from,
    exchange,
    sign_in,
)
from tests.support.security import client_in, forbidden, register_app
from tests.support.users import Tenant
from umapi.access.permissions import PERMISSIONS
from umapi.bootstrap import AdminCredentials

ALL = list(PERMISSIONS)


# ============================================================== 1. clients:write takes over clients
def test_clients_write_cannot_rotate_change_or_delete_a_client_holding_more(
    api: InProcessApi, platform: AdminCredentials, acme: Tenant
) -> None:
    # Given a powerful client, and a caller holding only clients:write (and clients:read)
    powerful = new_client(api, admin_token(api, platform), acme.org_id, ["users:delete", "clients:write"])
    narrow = client_in(api, platform, acme.org_id, ["clients:write", "clients:read"])
    target = f"/clients/{powerful.client_id}"
    # When it tries to take the powerful client over, then it is refused, naming what it lacks
    forbidden(api.post(f"{target}/rotate-secret", token=narrow), "users:delete")
    forbidden(api.patch(target, token=narrow, json_body={"redirect_uris": ["https://evil.example/cb"]}), "users:delete")
    forbidden(api.patch(target, token=narrow, json_body={"scopes": ["clients:write"]}), "users:delete")
    forbidden(api.delete(target, token=narrow), "users:delete")
    # And the powerful client's secret still works
    assert token(api, powerful.client_id, powerful.client_secret)
    # But a client holding no more than the caller is fine
    peer = new_client(api, admin_token(api, platform), acme.org_id, ["clients:read"])
    assert api.post(f"/clients/{peer.client_id}/rotate-secret", token=narrow).status == 200


def test_platform_admin_is_held_only_by_platform_clients(
    api: InProcessApi, platform: AdminCredentials, acme: Tenant
) -> None:
    admin = admin_token(api, platform)
    body = {"name": "sneaky", "scopes": ["platform:admin"]}
    refused = api.post("/clients", token=admin, json_body=body, query={"org_id": acme.org_id})
    assert refused.status == 400
    assert refused.error["code"] == "validation_error"
    client = new_client(api, admin, acme.org_id, ["clients:read"])
    patched = api.patch(
        f"/clients/{client.client_id}",
        token=admin,
        json_body={"scopes": ["platform:admin"]},
        query={"org_id": acme.org_id},
    )
    assert patched.status == 400
    # In the platform organization itself, a platform admin may still make another one.
    assert api.post("/clients", token=admin, json_body=body).status == 201


# ============================================================== 2. users:update takes over users
def test_users_update_cannot_take_over_a_user_holding_more(
    api: InProcessApi, platform: AdminCredentials, acme: Tenant
) -> None:
    admin_user = acme.user("boss@example.com", role="admin")
    keeper = acme.user("keeper@example.com", role="admin")
    for someone in (admin_user, keeper):
        assert api.post(f"/users/{someone['id']}/activate", token=acme.access).status == 200
    helpdesk = client_in(api, platform, acme.org_id, ["users:read", "users:update", "users:delete", "roles:read"])
    target = f"/users/{admin_user['id']}"
    # Credentials, status and existence of a user holding more than the caller are out of reach
    forbidden(api.patch(target, token=helpdesk, json_body={"password": "Taken-Over-99!"}), "audit:read")
    forbidden(api.patch(target, token=helpdesk, json_body={"email": "attacker@example.com"}), "audit:read")
    forbidden(api.patch(target, token=helpdesk, json_body={"status": "suspended"}), "audit:read")
    forbidden(api.post(f"{target}/deactivate", token=helpdesk), "audit:read")
    forbidden(api.delete(target, token=helpdesk), "audit:read")
    forbidden(api.delete(target, token=helpdesk, query={"force": "true"}), "audit:read")
    forbidden(api.post(f"{target}/roles", token=helpdesk, json_body={"role_id": "viewer"}), "audit:read")
    forbidden(api.delete(f"{target}/roles/role_admin", token=helpdesk), "audit:read")
    # Nothing changed
    assert acme.get(admin_user["id"]).json()["status"] == "active"
    # A harmless field is fine, and so is acting on a user holding no more than the caller
    assert api.patch(target, token=helpdesk, json_body={"name": "Boss"}).status == 200
    viewer = acme.user("viewer@example.com", role="viewer")
    assert api.patch(f"/users/{viewer['id']}", token=helpdesk, json_body={"email": "v2@example.com"}).status == 200
    assert api.delete(f"/users/{viewer['id']}", token=helpdesk).status == 200


def test_role_changes_need_what_the_role_holds(api: InProcessApi, platform: AdminCredentials, acme: Tenant) -> None:
    powerful = acme.api.post(
        "/roles", token=acme.access, json_body={"name": "auditors", "permissions": ["audit:read"]}
    ).json()
    editor = client_in(api, platform, acme.org_id, ["roles:write", "roles:read"])
    forbidden(
        api.patch(f"/roles/{powerful['id']}", token=editor, json_body={"permissions": ["roles:read"]}), "audit:read"
    )
    forbidden(api.delete(f"/roles/{powerful['id']}", token=editor), "audit:read")
    forbidden(api.post("/roles", token=editor, json_body={"name": "x", "permissions": ["users:read"]}), "users:read")


# ============================================================== 8. include=audit_log needs audit:read
def test_include_audit_log_needs_audit_read(api: InProcessApi, platform: AdminCredentials, acme: Tenant) -> None:
    someone = acme.user("someone@example.com")
    reader = client_in(api, platform, acme.org_id, ["users:read"])
    forbidden(api.get(f"/users/{someone['id']}", token=reader, query={"include": "audit_log"}), "audit:read")
    forbidden(api.get("/users", token=reader, query={"include": "audit_log"}), "audit:read")
    assert api.get(f"/users/{someone['id']}", token=reader, query={"include": "roles"}).status == 200
    assert "audit_log" in acme.get(someone["id"], query={"include": "audit_log"}).json()


# ============================================================== 12. user-token scope
def test_a_user_asking_for_more_than_they_hold_gets_invalid_scope(world: LoginWorld) -> None:
    member = world.tenant.user("member@example.com", name="Member", password=PASSWORD)
    world.api.post(f"/users/{member['id']}/activate", token=world.tenant.access)
    answer = sign_in(world, world.web, email="member@example.com", scope="users:read clients:write")
    assert answer.status == 302
    query = parse_qs(urlsplit(answer.header("Location") or "").query)
    assert query["error"] == ["invalid_scope"]
    assert "code" not in query


def test_a_clients_registered_scopes_cap_its_user_tokens(world: LoginWorld, platform: AdminCredentials) -> None:
    api = world.api
    created = register_app(world, platform, name="Reader app", redirect_uris=[REDIRECT], scopes=["users:read"])
    from tests.support.login import App

    reader = App(created["id"], created["client_secret"])
    beyond = api.get("/oauth/authorize", query=authorize_params(reader, scope="clients:write"))
    assert beyond.status == 302  # the signed-in user would be an admin: the client still caps it
    assert parse_qs(urlsplit(beyond.header("Location") or "").query)["error"] == ["invalid_scope"]
    tokens = exchange(world, reader, code_from(sign_in(world, reader))).json()
    assert tokens["scope"] == "users:read"
    assert api.get("/users", token=tokens["access_token"]).status == 200
    forbidden(api.get("/clients", token=tokens["access_token"]), "clients:read")


# ============================================================== 13. webhooks:write reading user data
def test_subscribing_needs_the_read_permission_of_the_data(
    api: InProcessApi, platform: AdminCredentials, acme: Tenant
) -> None:
    hooks = client_in(api, platform, acme.org_id, ["webhooks:write", "webhooks:read"])
    url = "https://8.8.8.8/in"
    forbidden(api.post("/webhooks", token=hooks, json_body={"url": url, "events": ["user.created"]}), "users:read")
    forbidden(api.post("/webhooks", token=hooks, json_body={"url": url, "events": ["role.assigned"]}), "roles:read")
    existing = api.post("/webhooks", token=acme.access, json_body={"url": url, "events": ["user.login"]}).json()
    forbidden(
        api.patch(f"/webhooks/{existing['id']}", token=hooks, json_body={"url": "https://1.1.1.1/x"}), "users:read"
    )
    readers = client_in(api, platform, acme.org_id, ["webhooks:write", "users:read"])
    assert api.post("/webhooks", token=readers, json_body={"url": url, "events": ["user.created"]}).status == 201


# ============================================================== 14. an expiring admin is not a keeper
def test_an_expiring_admin_assignment_cannot_keep_the_organization_administered(acme: Tenant) -> None:
    first = acme.user("first@example.com", role="admin")
    second = acme.user("second@example.com")
    for someone in (first, second):
        assert acme.api.post(f"/users/{someone['id']}/activate", token=acme.access).status == 200
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    assigned = acme.api.post(
        f"/users/{second['id']}/roles", token=acme.access, json_body={"role_id": "admin", "expires_at": soon}
    )
    assert assigned.status == 201
    removed = acme.api.delete(f"/users/{first['id']}/roles/role_admin", token=acme.access)
    assert removed.status == 422
    assert removed.error["violations"][0]["rule"] == "MINIMUM_ADMIN_COUNT"
