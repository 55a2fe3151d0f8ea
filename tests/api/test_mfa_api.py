"""Second factors through the API (docs/api.md §11): TOTP enrolment and confirmation, codes
computed from the enrolment's secret, replay and drift, recovery codes, removal, and an
administrator's reset. The sign-in's second step is tests/api/test_mfa_sign_in.py."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pyotp
import pytest

from tests.support.api import ApiResponse
from tests.support.authenticator import clear_of_a_step_boundary
from tests.support.login import PASSWORD, LoginWorld, code_from, exchange, sign_in
from tests.support.security import client_in
from tests.support.users import new_tenant
from umapi import db
from umapi.bootstrap import AdminCredentials


@pytest.fixture(autouse=True)
def _steady_totp_step() -> None:
    """Codes computed for this step (or one either side) keep their meaning through the test."""
    clear_of_a_step_boundary(6)


def stored_items() -> str:
    """Every item of every table, as text."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    return "".join(
        json.dumps(page["Items"])
        for table in dynamodb.list_tables()["TableNames"]
        for page in dynamodb.get_paginator("scan").paginate(TableName=table)
    )


def stored_events(kind: str) -> list[dict[str, Any]]:
    """The outbox's events of ``kind`` (envelopes, as webhooks receive them), oldest first."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    found = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            found += [db.deserialize(i) for i in page["Items"] if i.get("entity", {}).get("S") == "event"]
    envelopes = [e["envelope"] for e in sorted(found, key=lambda e: e["SK"]) if e["type"] == kind]
    return [json.loads(e) if isinstance(e, str) else e for e in envelopes]


def user_token(world: LoginWorld) -> str:
    return str(exchange(world, world.web, code_from(sign_in(world, world.web))).json()["access_token"])


def code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(world: LoginWorld, token: str, name: str | None = None) -> dict[str, Any]:
    answer = world.api.post("/users/me/mfa/totp", token=token, json_body={"name": name} if name else None)
    assert answer.status == 201, answer.body
    return dict(answer.json())


def confirm(world: LoginWorld, token: str, enrolment: dict[str, Any], offset: int = 0) -> ApiResponse:
    path = f"/users/me/mfa/totp/{enrolment['factor_id']}/confirm"
    return world.api.post(path, token=token, json_body={"code": code(enrolment["secret"], offset)})


@pytest.fixture
def token(world: LoginWorld) -> str:
    return user_token(world)


def test_enrolment_shows_the_secret_once_and_confirmation_turns_mfa_on(world: LoginWorld, token: str) -> None:
    enrolment = enrol(world, token, "Phone")
    assert set(enrolment) == {"factor_id", "secret", "otpauth_uri", "expires_in"}
    assert enrolment["factor_id"].startswith("mfa_")
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={enrolment['secret']}" in enrolment["otpauth_uri"]
    # Unconfirmed: not a factor yet.
    assert world.api.get("/users/me/mfa", token=token).json() == {"mfa_enabled": False, "data": []}

    confirmed = confirm(world, token, enrolment)
    assert confirmed.status == 200, confirmed.body
    body = confirmed.json()
    assert body["factor"]["id"] == enrolment["factor_id"]
    assert body["factor"]["type"] == "totp"
    assert body["factor"]["name"] == "Phone"
    assert len(body["recovery_codes"]) == 10
    assert len(set(body["recovery_codes"])) == 10

    me = world.api.get("/users/me", token=token).json()
    assert me["mfa_enabled"] is True
    assert [f["id"] for f in me["mfa_factors"]] == [enrolment["factor_id"]]
    assert set(me["mfa_factors"][0]) == {"id", "type", "name", "created_at", "last_used_at"}
    listed = world.api.get("/users/me/mfa", token=token).json()
    assert listed["mfa_enabled"] is True
    assert listed["data"] == me["mfa_factors"]
    # The secret never comes back, and is not stored as it was shown.
    for answer in (world.api.get("/users/me", token=token), world.api.get("/users/me/mfa", token=token)):
        assert enrolment["secret"] not in answer.body
    stored = stored_items()
    assert world.user["id"] in stored
    assert enrolment["secret"] not in stored
    for recovery_code in body["recovery_codes"]:
        assert recovery_code not in stored
        assert recovery_code.replace("-", "") not in stored


def test_a_wrong_code_does_not_confirm(world: LoginWorld, token: str) -> None:
    enrolment = enrol(world, token)
    wrong = str((int(code(enrolment["secret"])) + 1) % 1_000_000).zfill(6)
    path = f"/users/me/mfa/totp/{enrolment['factor_id']}/confirm"
    answer = world.api.post(path, token=token, json_body={"code": wrong})
    assert answer.status == 400
    assert answer.error["code"] == "validation_error"
    assert world.api.get("/users/me", token=token).json()["mfa_enabled"] is False


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_drift_either_way_is_accepted(world: LoginWorld, token: str, offset: int) -> None:
    assert confirm(world, token, enrol(world, token), offset).status == 200


@pytest.mark.parametrize("offset", [-3, 3])
def test_more_drift_is_refused(world: LoginWorld, token: str, offset: int) -> None:
    assert confirm(world, token, enrol(world, token), offset).status == 400


def test_an_enrolment_is_confirmed_once(world: LoginWorld, token: str) -> None:
    enrolment = enrol(world, token)
    assert confirm(world, token, enrolment).status == 200
    again = confirm(world, token, enrolment, 1)
    assert again.status == 404
    assert len(world.api.get("/users/me/mfa", token=token).json()["data"]) == 1


def another_user_token(world: LoginWorld, email: str, role: str) -> str:
    """A token of a new active user of the world's organization, signed in with a password."""
    body = {"email": email, "name": email.split("@")[0].title(), "password": PASSWORD, "role": role}
    created = world.api.post("/users", token=world.tenant.access, json_body=body).json()
    assert world.api.post(f"/users/{created['id']}/activate", token=world.tenant.access).status == 200
    return str(exchange(world, world.web, code_from(sign_in(world, world.web, email=email))).json()["access_token"])


def mfa_token(world: LoginWorld, secret: str, offset: int = 0) -> str:
    """A user token from a sign-in with the password and a TOTP code (amr mfa)."""
    page = sign_in(world, world.web)
    assert page.status == 200, page.body
    attempt = next(c for c in page.all_headers("Set-Cookie") if c.startswith("umapi_mfa=")).split(";", 1)[0]
    done = world.api.post(
        "/oauth/authorize",
        form={"step": "second-factor", "otp": code(secret, offset)},
        headers={"Cookie": attempt},
    )
    return str(exchange(world, world.web, code_from(done)).json()["access_token"])


def test_removing_a_factor_needs_a_code_and_a_code_is_accepted_once(world: LoginWorld, token: str) -> None:
    first = enrol(world, token, "A")
    assert confirm(world, token, first, -1).status == 200
    token = mfa_token(world, first["secret"])  # a second factor needs a sign-in that used the first
    second = enrol(world, token, "B")
    assert confirm(world, token, second).status == 200
    # The code that signed in with A is spent (same time step): it cannot remove B.
    spent = code(first["secret"])
    answer = world.api.delete(f"/users/me/mfa/{second['factor_id']}", token=token, json_body={"code": spent})
    assert answer.status == 400
    assert answer.error["code"] == "validation_error"
    # A code of the next step works once.
    fresh = code(first["secret"], 1)
    path = f"/users/me/mfa/{second['factor_id']}"
    assert world.api.delete(path, token=token, json_body={"code": fresh}).status == 204
    remaining = world.api.get("/users/me/mfa", token=token).json()
    assert [f["id"] for f in remaining["data"]] == [first["factor_id"]]
    assert remaining["mfa_enabled"] is True
    answer = world.api.delete(f"/users/me/mfa/{first['factor_id']}", token=token, json_body={"code": fresh})
    assert answer.status == 400  # replayed
    later = code(first["secret"], -1)  # an older step than the last accepted one: refused too
    assert world.api.delete(f"/users/me/mfa/{first['factor_id']}", token=token, json_body={"code": later}).status == 400


def test_a_second_factor_is_added_only_through_a_sign_in_that_used_one(world: LoginWorld, token: str) -> None:
    """A token from before MFA (or stolen with the password) cannot add a factor of its own."""
    first = enrol(world, token)
    assert confirm(world, token, first, -1).status == 200
    for refused in (
        world.api.post("/users/me/mfa/totp", token=token),
        world.api.post("/users/me/mfa/webauthn/options", token=token),
    ):
        assert refused.status == 403, refused.body
        assert refused.error["code"] == "forbidden"
        assert refused.error["required_amr"] == "mfa"
    stronger = mfa_token(world, first["secret"])
    assert world.api.post("/users/me/mfa/totp", token=stronger).status == 201


def test_recovery_codes_are_single_use_and_can_be_replaced(world: LoginWorld, token: str) -> None:
    enrolment = enrol(world, token)
    codes = confirm(world, token, enrolment).json()["recovery_codes"]
    replaced = world.api.post("/users/me/mfa/recovery-codes", token=token, json_body={"code": codes[0].upper()})
    assert replaced.status == 200, replaced.body
    new_codes = replaced.json()["recovery_codes"]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(codes)
    # The old set is gone, the one used included.
    for old in (codes[0], codes[1]):
        answer = world.api.post("/users/me/mfa/recovery-codes", token=token, json_body={"code": old})
        assert answer.status == 400
    # A new code removes the factor once; MFA goes off with the last factor, and the codes with it.
    path = f"/users/me/mfa/{enrolment['factor_id']}"
    assert world.api.delete(path, token=token, json_body={"code": new_codes[0]}).status == 204
    assert world.api.get("/users/me/mfa", token=token).json() == {"mfa_enabled": False, "data": []}


def test_five_wrong_codes_lock_the_checks_for_the_account(world: LoginWorld, token: str) -> None:
    enrolment = enrol(world, token)
    assert confirm(world, token, enrolment).status == 200
    for _ in range(5):
        answer = world.api.post("/users/me/mfa/recovery-codes", token=token, json_body={"code": "000000"})
        assert answer.status == 400
    right = code(enrolment["secret"], 1)
    locked = world.api.post("/users/me/mfa/recovery-codes", token=token, json_body={"code": right})
    assert locked.status == 429
    assert locked.error["code"] == "rate_limited"


def test_an_admin_resets_and_forces_mfa_with_audit_and_events(world: LoginWorld, token: str) -> None:
    enrolment = enrol(world, token)
    assert confirm(world, token, enrolment).status == 200
    user_id = world.user["id"]
    admin = world.tenant.access
    assert world.api.delete(f"/users/{user_id}/mfa", token=admin).status == 204
    after = world.api.get(f"/users/{user_id}", token=admin).json()
    assert after["mfa_enabled"] is False
    assert after["mfa_factors"] == []
    forced = world.api.patch(f"/users/{user_id}", token=admin, json_body={"mfa_enabled": True})
    assert forced.status == 200
    assert forced.json()["mfa_enabled"] is True
    off = world.api.patch(f"/users/{user_id}", token=admin, json_body={"mfa_enabled": False})
    assert off.status == 200
    assert off.json()["mfa_enabled"] is False
    actions = [
        e["action"] for e in world.api.get("/audit-log", token=admin, query={"target_id": user_id}).json()["data"]
    ]
    assert "user.mfa_reset" in actions
    assert "user.mfa_factor_added" in actions
    events = [e for e in stored_events("user.updated") if e["data"]["user"]["id"] == user_id and "changes" in e["data"]]
    # The reset and each PATCH name mfa_enabled alone; the enrolment names what it changed.
    assert [e["data"]["changes"] for e in events] == [
        ["mfa_enabled", "mfa_factors"],
        ["mfa_enabled"],
        ["mfa_enabled"],
        ["mfa_enabled"],
    ]
    assert enrolment["secret"] not in json.dumps(events)


def test_no_users_update_caller_resets_the_mfa_of_someone_holding_more(
    world: LoginWorld, token: str, platform: AdminCredentials
) -> None:
    """The world's user is an admin; a caller with users:update (and users:read) only may not
    remove, turn off or force the admin's MFA (docs/api.md §2, No escalation)."""
    enrolment = enrol(world, token)
    assert confirm(world, token, enrolment).status == 200
    narrow = client_in(world.api, platform, world.tenant.org_id, ["users:update", "users:read"])
    target = f"/users/{world.user['id']}"
    for response in (
        world.api.delete(f"{target}/mfa", token=narrow),
        world.api.patch(target, token=narrow, json_body={"mfa_enabled": False}),
        world.api.patch(target, token=narrow, json_body={"mfa_enabled": True}),
    ):
        assert response.status == 403, response.body
        assert response.error["code"] == "forbidden"
        assert response.error["required_permission"]
        assert response.error["required_permission"] != "users:update"
    assert world.api.get("/users/me/mfa", token=token).json()["mfa_enabled"] is True
    # A user holding nothing more than the caller: reset works.
    peer = world.tenant.user("peer-mfa@example.com", name="Peer", role="member")
    world.api.patch(f"/users/{peer['id']}", token=world.tenant.access, json_body={"mfa_enabled": True})
    plain = client_in(world.api, platform, world.tenant.org_id, ["users:update", "users:read", "roles:read"])
    assert world.api.delete(f"/users/{peer['id']}/mfa", token=plain).status == 204


def test_mfa_routes_act_on_the_caller_and_its_organization_only(
    world: LoginWorld, token: str, platform: AdminCredentials
) -> None:
    """Another organization's administrator cannot reach this user's factors; a client's own
    token has no factors; another user's factor id is not found for the caller."""
    enrolment = enrol(world, token)
    assert confirm(world, token, enrolment).status == 200
    elsewhere = new_tenant(world.api, platform, "Elsewhere MFA")
    assert world.api.delete(f"/users/{world.user['id']}/mfa", token=elsewhere.access).status == 404
    patched = world.api.patch(f"/users/{world.user['id']}", token=elsewhere.access, json_body={"mfa_enabled": False})
    assert patched.status == 404
    client_token = client_in(world.api, platform, world.tenant.org_id, ["users:read"])
    assert world.api.get("/users/me/mfa", token=client_token).status == 404
    assert world.api.post("/users/me/mfa/totp", token=client_token).status == 404
    # Another user of the same organization cannot confirm or delete this user's factor:
    # /users/me/… names the caller's own factors only.
    other = another_user_token(world, "neighbour@example.com", "admin")
    path = f"/users/me/mfa/{enrolment['factor_id']}"
    assert world.api.delete(path, token=other, json_body={"code": code(enrolment["secret"], 1)}).status == 404
    confirm_path = f"/users/me/mfa/totp/{enrolment['factor_id']}/confirm"
    assert world.api.post(confirm_path, token=other, json_body={"code": "123456"}).status == 404
    assert world.api.get("/users/me/mfa", token=token).json()["mfa_enabled"] is True
