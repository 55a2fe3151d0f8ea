"""The sign-in's second step (docs/api.md §11), driven as a browser drives it: the password, then
the second page with a TOTP code (computed from the enrolment's secret), a recovery code or a
passkey (a software authenticator, tests/support/authenticator.py); forced enrolment on the
page; the 5-minute binding to the attempt; the throttle; amr and auth_time in the tokens."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from typing import Any

import boto3
import jwt
import pyotp
import pytest

from tests.api.test_mfa_api import another_user_token, code, confirm, enrol, user_token
from tests.support.api import ApiResponse
from tests.support.authenticator import SoftAuthenticator, clear_of_a_step_boundary
from tests.support.login import LoginWorld, authorize_params, code_from, exchange, refresh, sign_in
from umapi import services
from umapi.table_keys import mfa_attempt_pk


@pytest.fixture(autouse=True)
def _steady_totp_step() -> None:
    """Codes computed for this step (or one either side) keep their meaning through the test."""
    clear_of_a_step_boundary(6)


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def cookie_of(response: ApiResponse, name: str) -> str:
    """The ``name=value`` of a cookie the response sets, as a browser sends it back."""
    for value in response.all_headers("Set-Cookie"):
        if value.startswith(f"{name}="):
            return value.split(";", 1)[0]
    raise AssertionError(f"no {name} cookie in {response.headers}")


def second_step(world: LoginWorld, page: ApiResponse, **form: str) -> ApiResponse:
    """Post the second page's form back with this browser's attempt cookie."""
    return world.api.post(
        "/oauth/authorize", form={"step": "second-factor", **form}, headers={"Cookie": cookie_of(page, "umapi_mfa")}
    )


@pytest.fixture
def totp_user(world: LoginWorld) -> dict[str, Any]:
    """The world's user with a confirmed TOTP factor: its secret and recovery codes."""
    token = user_token(world)
    enrolment = enrol(world, token)
    confirmed = confirm(world, token, enrolment, -1)  # step -1: the sign-in's codes come later
    assert confirmed.status == 200
    return {"secret": enrolment["secret"], "codes": confirmed.json()["recovery_codes"], "token": token}


def test_the_password_alone_gives_the_second_page_and_no_code(world: LoginWorld, totp_user: dict[str, Any]) -> None:
    page = sign_in(world, world.web)
    assert page.status == 200
    assert "Location" not in page.headers
    assert "Two-step verification" in page.body
    assert "autocomplete=one-time-code" in page.body
    assert "inputmode=numeric" in page.body
    assert "<label for=otp>" in page.body
    assert "umapi_session_" not in str(page.headers)  # no browser session before the second factor
    assert "SameSite=Strict" in str(page.headers)
    assert "HttpOnly" in str(page.headers)
    # Without finishing, the next authorization request shows the form again.
    again = world.api.get("/oauth/authorize", query=authorize_params(world.web))
    assert again.status == 200
    assert "name=password" not in again.body


def test_password_and_totp_sign_in_with_amr_and_auth_time(world: LoginWorld, totp_user: dict[str, Any]) -> None:
    before = int(time.time())
    page = sign_in(world, world.web, scope="openid users:read")
    done = second_step(world, page, otp=code(totp_user["secret"]))
    tokens = exchange(world, world.web, code_from(done)).json()
    access = claims(tokens["access_token"])
    assert access["amr"] == ["pwd", "otp", "mfa"]
    assert before - 1 <= access["auth_time"] <= int(time.time())
    assert claims(tokens["id_token"])["amr"] == ["pwd", "otp", "mfa"]
    renewed = refresh(world, world.web, tokens["refresh_token"]).json()
    assert claims(renewed["access_token"])["amr"] == ["pwd", "otp", "mfa"]
    assert claims(renewed["access_token"])["auth_time"] == access["auth_time"]
    me = world.api.get("/users/me", token=tokens["access_token"]).json()
    assert me["mfa_factors"][0]["last_used_at"] is not None
    # The browser session carries the second factor: the next request gets its code at once.
    session = next(c for c in done.all_headers("Set-Cookie") if c.startswith("umapi_session_")).split(";")[0]
    resumed = world.api.get("/oauth/authorize", query=authorize_params(world.web), headers={"Cookie": session})
    assert resumed.status == 302


def test_a_code_is_accepted_once_across_sign_ins(world: LoginWorld, totp_user: dict[str, Any]) -> None:
    now_code = code(totp_user["secret"])
    first = second_step(world, sign_in(world, world.web), otp=now_code)
    assert first.status == 302
    replay = second_step(world, sign_in(world, world.web), otp=now_code)
    assert replay.status == 400
    assert "not a current code" in replay.body
    assert "Location" not in replay.headers


def test_a_recovery_code_signs_in_once_with_amr_pwd_mfa(world: LoginWorld, totp_user: dict[str, Any]) -> None:
    recovery = totp_user["codes"][3]
    done = second_step(world, sign_in(world, world.web), otp=recovery)
    assert claims(exchange(world, world.web, code_from(done)).json()["access_token"])["amr"] == ["pwd", "mfa"]
    again = second_step(world, sign_in(world, world.web), otp=recovery)
    assert again.status == 400


def test_five_wrong_second_factors_give_the_429_page(world: LoginWorld, totp_user: dict[str, Any]) -> None:
    page = sign_in(world, world.web)
    for _ in range(5):
        assert second_step(world, page, otp="000000").status == 400
    locked = second_step(world, page, otp=code(totp_user["secret"], 1))
    assert locked.status == 429
    assert "Too many wrong codes" in locked.body
    assert (locked.header("Content-Type") or "").startswith("text/html")


def test_the_second_step_is_bound_to_the_attempt_and_lasts_five_minutes(
    world: LoginWorld, totp_user: dict[str, Any]
) -> None:
    page = sign_in(world, world.web)
    # Another browser (no cookie, or a made-up one) has no attempt.
    for cookie in ("", "umapi_mfa=" + "A" * 43):
        stranger = world.api.post(
            "/oauth/authorize",
            form={"step": "second-factor", "otp": code(totp_user["secret"])},
            headers={"Cookie": cookie},
        )
        assert stranger.status == 400
        assert "expired" in stranger.body
    # Five minutes later the attempt is over, even with the right code.
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    table = next(t for t in dynamodb.list_tables()["TableNames"] if "dempotency" not in t)
    secret = cookie_of(page, "umapi_mfa").split("=", 1)[1]
    from umapi.digests import sha256_hex

    key = {"PK": {"S": mfa_attempt_pk(sha256_hex(secret))}, "SK": {"S": "MFAATTEMPT"}}
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET expires_epoch = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    late = second_step(world, page, otp=code(totp_user["secret"], 1))
    assert late.status == 400
    assert "expired" in late.body


def test_an_attempt_gives_one_code(world: LoginWorld, totp_user: dict[str, Any]) -> None:
    page = sign_in(world, world.web)
    assert second_step(world, page, otp=code(totp_user["secret"])).status == 302
    assert second_step(world, page, otp=totp_user["codes"][0]).status == 400


def test_forced_enrolment_on_the_second_page(world: LoginWorld) -> None:
    forced = world.api.patch(f"/users/{world.user['id']}", token=world.tenant.access, json_body={"mfa_enabled": True})
    assert forced.status == 200
    page = sign_in(world, world.web)
    assert page.status == 200
    assert "<svg" in page.body
    assert "QR code" in page.body
    secret = re.search(r"<code id=totp-secret>([^<]+)</code>", page.body).group(1).replace(" ", "")  # type: ignore[union-attr]
    wrong = second_step(world, page, otp=str((int(pyotp.TOTP(secret).now()) + 1) % 10**6).zfill(6))
    assert wrong.status == 400
    assert "<svg" in wrong.body  # the enrolment stays on the page
    saved = second_step(world, page, otp=pyotp.TOTP(secret).now())
    assert saved.status == 200
    codes = re.findall(r"<li>([a-z0-9-]+)</li>", saved.body)
    assert len(codes) == 10
    location = unescape(re.search(r"href='([^']+)'", saved.body).group(1))  # type: ignore[union-attr]
    code_value = location.split("code=", 1)[1].split("&", 1)[0]
    tokens = exchange(world, world.web, code_value).json()
    assert claims(tokens["access_token"])["amr"] == ["pwd", "otp", "mfa"]
    me = world.api.get("/users/me", token=tokens["access_token"]).json()
    assert me["mfa_enabled"] is True
    assert [f["type"] for f in me["mfa_factors"]] == ["totp"]
    log = world.api.get("/audit-log", token=world.tenant.access, query={"target_id": world.user["id"]}).json()
    enrolled = [e for e in log["data"] if e["action"] == "user.mfa_factor_added"]
    assert enrolled[0]["changes"]["mfa_factors"] == {"added": me["mfa_factors"][0]["id"], "type": "totp"}
    assert secret not in json.dumps(log)
    # The recovery codes shown work.
    done = second_step(world, sign_in(world, world.web), otp=codes[0])
    assert done.status == 302


def test_a_browser_session_from_before_mfa_was_required_does_not_skip_it(world: LoginWorld) -> None:
    first = sign_in(world, world.web)
    session = next(c for c in first.all_headers("Set-Cookie") if c.startswith("umapi_session_")).split(";")[0]
    world.api.patch(f"/users/{world.user['id']}", token=world.tenant.access, json_body={"mfa_enabled": True})
    again = world.api.get("/oauth/authorize", query=authorize_params(world.web), headers={"Cookie": session})
    assert again.status == 200  # the form, not a code


# ------------------------------------------------------------------ passkeys
def register_passkey(world: LoginWorld, token: str, authenticator: SoftAuthenticator) -> dict[str, Any]:
    options = world.api.post("/users/me/mfa/webauthn/options", token=token)
    assert options.status == 200, options.body
    body = options.json()
    assert body["rp"]["id"] == "127.0.0.1"  # the host the API is called on (tests: 127.0.0.1)
    assert body["authenticatorSelection"]["userVerification"] == "required"
    assert body["attestation"] == "none"
    added = world.api.post(
        "/users/me/mfa/webauthn", token=token, json_body={"name": "Laptop", "credential": authenticator.create(body)}
    )
    assert added.status == 201, added.body
    return dict(added.json())


def passkey_options(page: ApiResponse) -> dict[str, Any]:
    found = re.search(r"data-options='([^']+)'", page.body)
    assert found, page.body
    return dict(json.loads(unescape(found.group(1))))


def test_a_passkey_registers_and_signs_in_with_hwk(world: LoginWorld) -> None:
    token = user_token(world)
    authenticator = SoftAuthenticator()
    factor = register_passkey(world, token, authenticator)
    assert factor["type"] == "webauthn"
    assert len(factor["recovery_codes"]) == 10  # the first factor brings them
    page = sign_in(world, world.web)
    assert "assets/passkey.js" in page.body
    options = passkey_options(page)
    assert options["userVerification"] == "required"
    answer = authenticator.get(options)
    done = second_step(world, page, credential=json.dumps(answer))
    assert done.status == 302, done.body
    assert claims(exchange(world, world.web, code_from(done)).json()["access_token"])["amr"] == ["pwd", "hwk", "mfa"]


def test_a_passkey_whose_counter_went_backwards_is_refused(world: LoginWorld) -> None:
    token = user_token(world)
    authenticator = SoftAuthenticator()
    register_passkey(world, token, authenticator)
    page = sign_in(world, world.web)
    assert (
        second_step(world, page, credential=json.dumps(authenticator.get(passkey_options(page), count=5))).status == 302
    )
    clone = sign_in(world, world.web)
    refused = second_step(world, clone, credential=json.dumps(authenticator.get(passkey_options(clone), count=3)))
    assert refused.status == 400
    assert "Location" not in refused.headers


@pytest.mark.parametrize(
    "tamper",
    ["origin", "challenge", "unverified", "other-key"],
)
def test_a_passkey_answer_that_is_not_right_is_refused(world: LoginWorld, tamper: str) -> None:
    token = user_token(world)
    authenticator = SoftAuthenticator()
    register_passkey(world, token, authenticator)
    page = sign_in(world, world.web)
    options = passkey_options(page)
    if tamper == "origin":
        answer = authenticator.get(options, origin="http://evil.example")
    elif tamper == "challenge":
        answer = authenticator.get({**options, "challenge": "AAAA" + options["challenge"][4:]})
    elif tamper == "unverified":
        authenticator.user_verified = False
        answer = authenticator.get(options)
    else:
        answer = SoftAuthenticator(credential_id=authenticator.credential_id).get(options)
    assert second_step(world, page, credential=json.dumps(answer)).status == 400


def test_a_registration_challenge_is_single_use_and_bound_to_the_user(world: LoginWorld) -> None:
    token = user_token(world)
    options = world.api.post("/users/me/mfa/webauthn/options", token=token).json()
    # Another user of the organization cannot answer this user's challenge.
    other = another_user_token(world, "other-passkey@example.com", "member")
    foreign = world.api.post(
        "/users/me/mfa/webauthn",
        token=other,
        json_body={"credential": SoftAuthenticator().create(options)},
    )
    assert foreign.status == 400
    assert foreign.error["details"][0]["field"] == "credential"
    # Without user verification: refused, and the challenge is spent all the same.
    unverified = SoftAuthenticator(user_verified=False).create(options)
    assert world.api.post("/users/me/mfa/webauthn", token=token, json_body={"credential": unverified}).status == 400
    replay = world.api.post(
        "/users/me/mfa/webauthn", token=token, json_body={"credential": SoftAuthenticator().create(options)}
    )
    assert replay.status == 400
    # New options, a verified answer: registered.
    fresh = world.api.post("/users/me/mfa/webauthn/options", token=token).json()
    added = world.api.post(
        "/users/me/mfa/webauthn", token=token, json_body={"credential": SoftAuthenticator().create(fresh)}
    )
    assert added.status == 201


def test_a_code_racing_another_sign_in_is_refused_by_the_conditional_write(
    world: LoginWorld, totp_user: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ins with one code at the same instant both read the factor before either
    writes: the second one's read is stale. Simulated by answering the second read as it was
    before the first sign-in committed: only the conditional write can refuse it."""
    from umapi.mfa.store import FactorSet, MfaStore

    now_code = code(totp_user["secret"])
    racing = sign_in(world, world.web)
    stale = MfaStore.factor_set(services.second_factors().store, world.tenant.org_id, world.user["id"])
    assert second_step(world, sign_in(world, world.web), otp=now_code).status == 302
    monkeypatch.setattr(MfaStore, "factor_set", lambda self, org_id, user_id: FactorSet(*stale))
    refused = second_step(world, racing, otp=now_code)
    assert refused.status == 400
    assert "Location" not in refused.headers


HOSTILE_CREDENTIALS = [
    "not json",
    "[" * 5000,
    '{"id": ["a"]}',
    '{"id": {"x": 1}}',
    "[]",
    "null",
    '{"id": "AAAA", "rawId": 5, "type": "public-key", "response": {}}',
    '{"id": "AAAA", "response": {"clientDataJSON": "!!!", "authenticatorData": 3, "signature": null}}',
]


@pytest.mark.parametrize("credential", HOSTILE_CREDENTIALS, ids=range(len(HOSTILE_CREDENTIALS)))
def test_a_hostile_passkey_answer_is_refused_not_a_crash(world: LoginWorld, credential: str) -> None:
    token = user_token(world)
    authenticator = SoftAuthenticator()
    register_passkey(world, token, authenticator)
    page = sign_in(world, world.web)
    answer = dict(authenticator.get(passkey_options(page)))
    for sent in (credential, credential.replace('"AAAA"', f'"{answer["id"]}"')):
        refused = second_step(world, page, credential=sent)
        assert refused.status == 400, refused.body[:300]
        assert "Two-step verification" in refused.body


@pytest.mark.parametrize("credential", HOSTILE_CREDENTIALS, ids=range(len(HOSTILE_CREDENTIALS)))
def test_a_hostile_passkey_registration_is_a_400(world: LoginWorld, credential: str) -> None:
    token = user_token(world)
    options = world.api.post("/users/me/mfa/webauthn/options", token=token).json()
    try:
        body: Any = json.loads(credential)
    except ValueError:
        body = credential
    if not isinstance(body, dict):
        body = {"value": body}
    if isinstance(body.get("response"), dict):  # the right challenge, the rest hostile
        body["response"]["clientDataJSON"] = SoftAuthenticator().create(options)["response"]["clientDataJSON"]
    answer = world.api.post("/users/me/mfa/webauthn", token=token, json_body={"credential": body})
    assert answer.status == 400, answer.body[:300]
    assert answer.error["code"] == "validation_error"
