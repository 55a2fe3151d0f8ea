"""Tokens and sessions end exactly when they should: revocation of the same second, codes issued
before a suspension, PKCE without downgrade, a code race, publish-first key rotation, RFC 7009
hints. (The adversarial review's findings, each tried again as an attacker would; every test
failed before its fix.)"""

from __future__ import annotations

import base64
import time
from typing import Any

import boto3
import jwt
import pytest

from tests.support.api import InProcessApi
from tests.support.flows import admin_token
from tests.support.login import (
    REDIRECT,
    VERIFIER,
    LoginWorld,
    code_from,
    exchange,
    refresh,
    sign_in,
)
from umapi import services
from umapi.access.permissions import PERMISSIONS
from umapi.auth import signing
from umapi.aws import dynamodb_client
from umapi.bootstrap import AdminCredentials
from umapi.settings import get_settings

ALL = list(PERMISSIONS)


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


# ============================================================== 7. PKCE downgrade
def test_a_code_verifier_for_a_code_without_challenge_is_invalid_grant(world: LoginWorld) -> None:
    code = code_from(sign_in(world, world.web))  # a confidential client, no code_challenge
    answer = exchange(world, world.web, code, code_verifier=VERIFIER)
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_grant"


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
