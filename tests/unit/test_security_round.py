"""The adversarial review's findings, each tried again the way an attacker would, through the
public interface (HTTP events into the handlers). Every test failed before its fix."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import jwt
import pytest

from tests.support.api import ApiResponse, InProcessApi
from tests.support.flows import admin_token, new_client, token
from tests.support.login import (
    CHALLENGE,
    PASSWORD,
    REDIRECT,
    VERIFIER,
    LoginWorld,
    authorize_params,
    code_from,
    exchange,
    form_cookie,
    hidden_fields,
    login_world,
    refresh,
    sign_in,
)
from tests.support.users import Tenant
from umapi import services
from umapi.access.permissions import PERMISSIONS
from umapi.auth import signing
from umapi.aws import dynamodb_client
from umapi.bootstrap import AdminCredentials
from umapi.settings import get_settings

ALL = list(PERMISSIONS)


@pytest.fixture
def world(api: InProcessApi, platform: AdminCredentials) -> LoginWorld:
    return login_world(api, platform)


def client_in(api: InProcessApi, platform: AdminCredentials, org: str, scopes: list[str], **extra: Any) -> str:
    """A token of a new client of ``org`` holding ``scopes``."""
    created = new_client(api, admin_token(api, platform), org, scopes, rate_limit_per_minute=100_000, **extra)
    return token(api, created.client_id, created.client_secret)


def forbidden(response: ApiResponse, permission: str) -> None:
    assert response.status == 403, response.body
    assert response.error["code"] == "forbidden"
    assert response.error["required_permission"] == permission


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


# ============================================================== 4. exact revocation
def test_a_password_change_ends_tokens_of_the_same_second_and_later_ones_work(world: LoginWorld) -> None:
    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    user = world.user["id"]
    changed = world.api.patch(f"/users/{user}", token=world.tenant.access, json_body={"password": "Brand-New-Pass-88"})
    assert changed.status == 200
    # The tokens issued just before (within the same second) stop working at once
    stale = world.api.get("/users/me", token=tokens["access_token"])
    assert stale.status == 401
    assert 'error="invalid_token"' in (stale.header("WWW-Authenticate") or "")
    assert refresh(world, world.web, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    # And a sign-in after the change works, in the same second too
    fresh = exchange(world, world.web, code_from(sign_in(world, world.web, password="Brand-New-Pass-88"))).json()
    assert world.api.get("/users/me", token=fresh["access_token"]).status == 200
    assert refresh(world, world.web, fresh["refresh_token"]).status == 200


def test_a_code_issued_before_a_suspension_is_worthless(world: LoginWorld) -> None:
    code = code_from(sign_in(world, world.web))
    user = world.user["id"]
    assert world.api.post(f"/users/{user}/deactivate", token=world.tenant.access).status == 200
    assert world.api.post(f"/users/{user}/activate", token=world.tenant.access).status == 200
    assert exchange(world, world.web, code).json()["error"] == "invalid_grant"


# ============================================================== 5. no secret at rest in plaintext
def test_no_table_item_holds_a_secret_in_plaintext(world: LoginWorld, platform: AdminCredentials) -> None:
    api, admin = world.api, world.tenant.access
    key = {"Idempotency-Key": "secret-bearing"}
    client = api.post("/clients", token=admin, json_body={"name": "ci", "scopes": []}, headers=key).json()
    rotated_client = api.post(f"/clients/{client['id']}/rotate-secret", token=admin, headers=key).json()
    hook = api.post(
        "/webhooks", token=admin, json_body={"url": "https://8.8.8.8/in", "events": ["user.created"]}, headers=key
    ).json()
    rotated_hook = api.post(f"/webhooks/{hook['id']}/rotate-secret", token=admin, headers=key).json()
    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    secrets = {
        "client secret": client["client_secret"],
        "rotated client secret": rotated_client["client_secret"],
        "webhook secret": hook["secret"],
        "rotated webhook secret": rotated_hook["secret"],
        "webhook secret key": hook["secret"].removeprefix("whsec_"),
        "refresh token": tokens["refresh_token"],
        "password": PASSWORD,
        "platform secret": platform.client_secret,
    }
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    stored = ""
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            stored += json.dumps(page["Items"])
    assert "idempotency" in stored.lower() or len(stored) > 10_000
    leaked = [name for name, value in secrets.items() if value in stored]
    assert leaked == []
    # and the answers still replay, secret included, to their caller
    again = api.post("/clients", token=admin, json_body={"name": "ci", "scopes": []}, headers=key)
    assert again.json()["client_secret"] == client["client_secret"]


# ============================================================== 6. hostile JSON at the edge
@pytest.mark.parametrize(
    "body",
    [
        "[" * 50_000,
        '{"email": ' + "[" * 5_000 + "]" * 5_000 + "}",
        '{"name": ' + "9" * 5_000 + "}",
        '{"name": "' + "\\" * 3 + '"}',
    ],
    ids=["deep-array", "deep-value", "huge-integer", "bad-escape"],
)
def test_hostile_json_is_a_validation_error_not_a_crash(acme: Tenant, body: str) -> None:
    for path in ("/users", "/clients", "/roles", "/webhooks"):
        response = acme.api.post(path, token=acme.access, raw_body=body, headers={"Content-Type": "application/json"})
        assert response.status == 400, (path, response.body[:200])
        assert response.error["code"] == "validation_error"
        assert response.header("X-Request-Id") == response.error["request_id"]
    token_request = acme.api.post("/auth/token", raw_body=body, headers={"Content-Type": "application/json"})
    assert token_request.status == 400
    assert token_request.json()["error"] == "invalid_request"


def test_an_unexpected_exception_anywhere_is_the_500_envelope(acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    from umapi import http

    def explode(*_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(http, "check_body", explode)  # the body guard, before authentication
    response = acme.api.get("/users", token=acme.access)
    assert response.status == 500
    assert response.error["code"] == "internal_error"
    assert response.header("X-Request-Id") == response.error["request_id"]
    assert "boom" not in response.body


# ============================================================== 7. PKCE downgrade
def test_a_code_verifier_for_a_code_without_challenge_is_invalid_grant(world: LoginWorld) -> None:
    code = code_from(sign_in(world, world.web))  # a confidential client, no code_challenge
    answer = exchange(world, world.web, code, code_verifier=VERIFIER)
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_grant"


# ============================================================== 8. include=audit_log needs audit:read
def test_include_audit_log_needs_audit_read(api: InProcessApi, platform: AdminCredentials, acme: Tenant) -> None:
    someone = acme.user("someone@example.com")
    reader = client_in(api, platform, acme.org_id, ["users:read"])
    forbidden(api.get(f"/users/{someone['id']}", token=reader, query={"include": "audit_log"}), "audit:read")
    forbidden(api.get("/users", token=reader, query={"include": "audit_log"}), "audit:read")
    assert api.get(f"/users/{someone['id']}", token=reader, query={"include": "roles"}).status == 200
    assert "audit_log" in acme.get(someone["id"], query={"include": "audit_log"}).json()


# ============================================================== 9. strangers and a public client's quota
def test_failed_token_requests_do_not_spend_a_public_clients_quota(
    world: LoginWorld, platform: AdminCredentials
) -> None:
    # Given a public client allowed 10 requests a minute, and a user signing in through it
    api = world.api
    limited = api.patch(
        f"/clients/{world.spa.client_id}",
        token=admin_token(api, platform),
        query={"org_id": world.tenant.org_id},
        json_body={"rate_limit_per_minute": 10},
    )
    assert limited.status == 200
    code = code_from(sign_in(world, world.spa))
    # When a stranger who read the authorization URL sends 31 garbage token requests
    garbage = {"grant_type": "refresh_token", "refresh_token": "guessed", "client_id": world.spa.client_id}
    answers = [api.post("/auth/token", form=garbage).status for _ in range(31)]
    # Then they count in a bucket of their own, which fills at 30...
    assert answers == [400] * 30 + [429]
    # ...and the client's quota is untouched: the user's code exchange is its first request
    exchanged = exchange(world, world.spa, code)
    assert exchanged.status == 200, exchanged.body
    assert exchanged.header("X-RateLimit-Limit") == "10"
    assert exchanged.header("X-RateLimit-Remaining") == "9"


# ============================================================== 11. a concurrent code exchange's loser
def loser_exchange(world: LoginWorld, code: str) -> str:
    """A second exchange of ``code`` by the web app, at the token service (it runs inside the
    winner's request, so not through the resolver the winner is using): the error it answers."""
    from umapi.audit import RequestMeta
    from umapi.errors import OAuthError

    params = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    basic = base64.b64encode(f"{world.web.client_id}:{world.web.client_secret}".encode()).decode()
    try:
        services.token_service().token(params, f"Basic {basic}", "https://issuer", {}, RequestMeta("req_x", None, None))
    except OAuthError as error:
        return error.error
    raise AssertionError("the second exchange of a code was answered with tokens")


@pytest.mark.parametrize("moment", ["before-call", "after-call"])
def test_a_code_race_has_exactly_one_winner_whose_session_then_ends(world: LoginWorld, moment: str) -> None:
    # Given a code, and a second exchange of it that lands while the first is between marking
    # the code used and starting its session (before-call), or just after (after-call)
    code = code_from(sign_in(world, world.web))
    losers: list[str] = []

    def race(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems" and not losers:
            losers.append(loser_exchange(world, code))

    events = dynamodb_client().meta.events
    events.register_first(f"{moment}.dynamodb.TransactWriteItems", race)
    try:
        # When the first exchange runs
        first = exchange(world, world.web, code)
    finally:
        events.unregister(f"{moment}.dynamodb.TransactWriteItems", race)
    # Then exactly one wins: the first, with tokens; the loser gets invalid_grant...
    assert losers == ["invalid_grant"]
    assert first.status == 200, first.body
    # ...and, the code having been used twice, the session it started is revoked (RFC 6749 §4.1.2)
    again = refresh(world, world.web, first.json()["refresh_token"])
    assert (again.status, again.json()["error"]) == (400, "invalid_grant")


def test_a_code_used_once_keeps_its_session(world: LoginWorld) -> None:
    first = exchange(world, world.web, code_from(sign_in(world, world.web)))
    assert refresh(world, world.web, first.json()["refresh_token"]).status == 200


# ============================================================== 12. user-token scope
def test_a_user_asking_for_more_than_they_hold_gets_invalid_scope(world: LoginWorld) -> None:
    member = world.tenant.user("member@example.com", name="Member", password=PASSWORD)
    world.api.post(f"/users/{member['id']}/activate", token=world.tenant.access)
    answer = sign_in(world, world.web, email="member@example.com", scope="users:read clients:write")
    assert answer.status == 302
    query = parse_qs(urlsplit(answer.header("Location") or "").query)
    assert query["error"] == ["invalid_scope"]
    assert "code" not in query


def register_app(world: LoginWorld, platform: AdminCredentials, **body: Any) -> dict[str, Any]:
    """A new sign-in client in the world's organization."""
    created = world.api.post(
        "/clients",
        token=admin_token(world.api, platform),
        query={"org_id": world.tenant.org_id},
        json_body={"grant_types": ["authorization_code"], **body},
    )
    assert created.status == 201, created.body
    return dict(created.json())


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


# ============================================================== 15. redirect URIs with control characters
@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb\n",
        "https://app.example/c\rb",
        "https://app.example/\tcb",
        "https://app.example/c b",
        "https://app.example/cb#frag",
        "https://app.example/%zz",
        "https://app.example/cb\x00",
    ],
)
def test_redirect_uris_must_be_clean_absolute_uris(api: InProcessApi, platform: AdminCredentials, uri: str) -> None:
    admin = admin_token(api, platform)
    body = {"name": "web", "grant_types": ["authorization_code"], "redirect_uris": [uri]}
    response = api.post("/clients", token=admin, json_body=body)
    assert response.status == 400, uri
    assert response.error["code"] == "validation_error"


def test_a_presented_redirect_uri_with_a_newline_never_reaches_location(world: LoginWorld) -> None:
    params = authorize_params(world.web, redirect_uri=REDIRECT + "\n", response_type="token")
    response = world.api.get("/oauth/authorize", query=params)
    assert response.status == 400
    assert response.header("Location") is None


# ============================================================== 17. duplicate JSON parameters
def test_token_requests_in_json_refuse_repeated_parameters(world: LoginWorld) -> None:
    body = '{"grant_type": "client_credentials", "grant_type": "refresh_token"}'
    response = world.api.post("/auth/token", raw_body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert response.json()["error"] == "invalid_request"


# ============================================================== 18. CSRF on the sign-in form
def test_the_sign_in_post_is_bound_to_the_form_this_browser_opened(world: LoginWorld) -> None:
    page = world.api.get("/oauth/authorize", query=authorize_params(world.web))
    assert "SameSite=Lax" in (page.header("Set-Cookie") or "")
    assert "HttpOnly" in (page.header("Set-Cookie") or "")
    form = hidden_fields(page.body) | {"email": world.user["email"], "password": PASSWORD}
    # A cross-site post carries no cookie: refused, and no code is issued
    no_cookie = world.api.post("/oauth/authorize", form=form)
    assert no_cookie.status == 403
    assert no_cookie.header("Location") is None
    # A forged form token, or another browser's cookie, is refused too
    other = world.api.get("/oauth/authorize", query=authorize_params(world.web))
    assert world.api.post("/oauth/authorize", form=form, headers={"Cookie": form_cookie(other)}).status == 403
    forged = form | {"login_token": "9999999999.forged"}
    assert world.api.post("/oauth/authorize", form=forged, headers={"Cookie": form_cookie(page)}).status == 403
    # The genuine pair signs in
    assert world.api.post("/oauth/authorize", form=form, headers={"Cookie": form_cookie(page)}).status == 302


# ============================================================== 20. opaque cursors
def test_cursors_reveal_neither_keys_nor_the_search_term(acme: Tenant) -> None:
    for n in range(3):
        acme.user(f"secretive{n}@example.com", name=f"Secretive {n}")
    page = acme.api.get("/users", token=acme.access, query={"limit": "1", "search": "secretive"}).json()
    cursor = page["pagination"]["next_cursor"]
    padded = cursor + "=" * (-len(cursor) % 4)
    decoded = base64.urlsafe_b64decode(padded.replace(".", "A"))
    for revealing in (b"USER#", b"ORG#", b"secretive", b"GSI"):
        assert revealing not in decoded
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    response = acme.api.get(
        "/users", token=acme.access, query={"limit": "1", "search": "secretive", "cursor": tampered}
    )
    assert response.status == 400
    assert response.error["details"][0]["field"] == "cursor"
    following = acme.api.get("/users", token=acme.access, query={"limit": "1", "search": "secretive", "cursor": cursor})
    assert following.status == 200


# ============================================================== 23. publish first, sign later
class InProcessJwks(jwt.PyJWKClient):
    def __init__(self, api: InProcessApi) -> None:
        super().__init__("http://in-process/.well-known/jwks.json", cache_keys=True)
        self._api = api

    def fetch_data(self) -> Any:
        return self._api.get("/.well-known/jwks.json").json()


def test_a_rotated_key_is_published_before_anything_is_signed_with_it(
    api: InProcessApi, platform: AdminCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing, "ACTIVATION_SECONDS", 1.0)
    monkeypatch.setattr(signing, "CACHE_SECONDS", 0.5)
    before = admin_token(api, platform)  # every cache is warm with the old ring
    store = signing.KeyRingStore(
        boto3.client("secretsmanager", region_name="us-east-1"),
        get_settings().signing_keys_secret,
        boto3.client("dynamodb", region_name="us-east-1"),
        "Table",
    )
    new_key = store.rotate()
    verifier = InProcessJwks(api)
    assert new_key.kid in {key.key_id for key in verifier.get_signing_keys()}  # published at once
    fresh = admin_token(api, platform)
    assert jwt.get_unverified_header(fresh)["kid"] != new_key.kid  # not signing yet
    for access in (before, fresh):
        assert api.get("/orgs", token=access).status == 200
    time.sleep(1.1)
    signed_new = admin_token(api, platform)
    assert jwt.get_unverified_header(signed_new)["kid"] == new_key.kid
    key = verifier.get_signing_key_from_jwt(signed_new)  # the JWKS it cached before already had it
    claims = jwt.decode(signed_new, key.key, algorithms=["RS256"], options={"verify_aud": False})
    assert claims["client_id"] == platform.client_id
    assert api.get("/orgs", token=signed_new).status == 200
    assert api.get("/orgs", token=before).status == 200


# ============================================================== 24. RFC 7009 hints
def test_revoke_with_a_wrong_hint_still_revokes_and_answers_200(world: LoginWorld) -> None:
    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    basic = (world.web.client_id, world.web.client_secret or "")
    form = {"token": tokens["refresh_token"], "token_type_hint": "access_token"}
    assert world.api.post("/auth/revoke", form=form, basic=basic).status == 200
    assert refresh(world, world.web, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    for hint in ("refresh_token", "something_else"):
        answer = world.api.post("/auth/revoke", form={"token": "a.b.c", "token_type_hint": hint}, basic=basic)
        assert answer.status == 200


# ============================================================== 25. loopback redirects on any port
def test_native_loopback_redirects_match_on_any_port(world: LoginWorld, platform: AdminCredentials) -> None:
    api = world.api
    loopback = ["http://127.0.0.1/callback", "http://[::1]/callback"]
    created = register_app(world, platform, name="CLI", public=True, redirect_uris=loopback, scopes=["users:read"])
    for uri in ("http://127.0.0.1:53123/callback", "http://[::1]:8400/callback", "http://127.0.0.1/callback"):
        params = {
            "response_type": "code",
            "client_id": created["id"],
            "redirect_uri": uri,
            "state": "xyz",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        }
        page = api.get("/oauth/authorize", query=params)
        assert page.status == 200, uri
        form = hidden_fields(page.body) | {"email": world.user["email"], "password": PASSWORD}
        answer = api.post("/oauth/authorize", form=form, headers={"Cookie": form_cookie(page)})
        location = answer.header("Location") or ""
        assert location.startswith(uri + "?"), location
        code = parse_qs(urlsplit(location).query)["code"][0]
        exchanged = api.post(
            "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": uri,
                "client_id": created["id"],
                "code_verifier": VERIFIER,
            },
        )
        assert exchanged.status == 200, exchanged.body
    for other in (
        "http://127.0.0.1:53123/elsewhere",
        "http://localhost:53123/callback",
        "https://127.0.0.1:9/callback",
    ):
        params = {"response_type": "code", "client_id": created["id"], "redirect_uri": other}
        assert api.get("/oauth/authorize", query=params).status == 400, other


# ============================================================== found by schemathesis with the tighter schema
def test_a_webhook_url_whose_host_is_no_host_name_is_a_validation_error(acme: Tenant) -> None:
    for url in ("https://\u0101\u00fd\u000f\u0089\u000e\u00afn/in", "https://-bad-.example/in", "https://a b.example/"):
        response = acme.api.post("/webhooks", token=acme.access, json_body={"url": url, "events": ["user.created"]})
        assert response.status == 400, url
        assert response.error["code"] == "validation_error"


@pytest.mark.parametrize("body", ["[null, null]", "[]", "5", '"text"'])
def test_a_request_body_that_is_not_an_object_is_a_validation_error(acme: Tenant, body: str) -> None:
    someone = acme.user("shape@example.com")
    response = acme.api.post(
        f"/users/{someone['id']}/deactivate",
        token=acme.access,
        raw_body=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400
    assert response.error["details"][0]["code"] == "object_expected"
    assert acme.get(someone["id"]).json()["status"] != "suspended"
