"""The sign-in page's browser session and OpenID Connect's prompt, max_age and RP-initiated
logout (docs/api.md §12), driven like a browser: cookies are sent back as a browser would."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from tests.support.api import ApiResponse, InProcessApi
from tests.support.login import App, LoginWorld, authorize_params, code_from, exchange, login_world, refresh, sign_in
from umapi.bootstrap import AdminCredentials
from umapi.services import signing_keys

LOGOUT_TO = "https://app.example/signed-out"


def session_cookie(response: ApiResponse) -> str:
    """``name=value`` of the browser session cookie a successful sign-in sets."""
    cookie = response.header("Set-Cookie") or ""
    assert cookie.startswith("umapi_session_"), cookie
    return cookie.split(";", 1)[0]


def authorize(world: LoginWorld, app: App, cookie: str | None, **extra: str) -> ApiResponse:
    headers = {"Cookie": cookie} if cookie else {}
    return world.api.get("/oauth/authorize", query=authorize_params(app, **extra), headers=headers)


def redirect_query(response: ApiResponse) -> dict[str, list[str]]:
    assert response.status == 302, response.body
    return parse_qs(urlsplit(response.header("Location") or "").query)


def signed_in(world: LoginWorld, app: App, **extra: str) -> tuple[str, dict[str, Any]]:
    """A password sign-in: the browser's session cookie and the client's tokens."""
    answer = sign_in(world, app, scope="openid email", **extra)
    tokens = exchange(world, app, code_from(answer)).json()
    return session_cookie(answer), tokens


def logins(world: LoginWorld) -> int:
    log = world.api.get("/audit-log", token=world.tenant.access, query={"action": "user.login"}).json()["data"]
    return len(log)


def test_a_sign_in_starts_a_browser_session_the_next_request_reuses(world: LoginWorld) -> None:
    answer = sign_in(world, world.web, scope="openid")
    cookie_header = answer.header("Set-Cookie") or ""
    assert f"umapi_session_{world.tenant.org_id}=" in cookie_header
    for attribute in ("HttpOnly", "SameSite=Lax", "Max-Age=28800"):
        assert attribute in cookie_header
    assert "Secure" not in cookie_header  # plain http locally; https deployments add it
    first = exchange(world, world.web, code_from(answer)).json()
    assert logins(world) == 1

    again = authorize(world, world.spa, session_cookie(answer), scope="openid")
    code = redirect_query(again)["code"][0]  # no form: the session signed the browser in
    tokens = exchange(world, world.spa, code).json()
    first_claims = jwt.decode(first["id_token"], options={"verify_signature": False})
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["auth_time"] == first_claims["auth_time"]
    assert claims["amr"] == ["pwd"]
    assert claims["sid"] != first_claims["sid"]  # a sign-in of its own, with its own refresh family
    assert logins(world) == 1  # reusing the session is not a new login


def test_prompt_login_and_max_age_ask_for_the_password_again(world: LoginWorld) -> None:
    cookie, _ = signed_in(world, world.web)
    assert authorize(world, world.web, cookie, prompt="login").status == 200
    assert authorize(world, world.web, cookie, max_age="0").status == 200
    assert "code" in redirect_query(authorize(world, world.web, cookie, max_age="3600"))
    time.sleep(2.1)
    assert authorize(world, world.web, cookie, max_age="1").status == 200


def test_prompt_none_never_shows_the_form(world: LoginWorld) -> None:
    refused = redirect_query(authorize(world, world.web, None, prompt="none"))
    assert refused["error"] == ["login_required"]
    assert refused["state"] == ["xyz"]
    cookie, _ = signed_in(world, world.web)
    assert "code" in redirect_query(authorize(world, world.web, cookie, prompt="none"))
    old = redirect_query(authorize(world, world.web, cookie, prompt="none", max_age="0"))
    assert old["error"] == ["login_required"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("prompt", "sometimes"), ("prompt", "none login"), ("max_age", "-1"), ("max_age", "soon"), ("max_age", "9" * 11)],
)
def test_bad_prompt_and_max_age_are_invalid_requests(world: LoginWorld, name: str, value: str) -> None:
    query = redirect_query(authorize(world, world.web, None, **{name: value}))
    assert query["error"] == ["invalid_request"]


@pytest.mark.parametrize("how", ["suspend", "password"])
def test_the_session_ends_with_the_users_sessions(world: LoginWorld, how: str) -> None:
    cookie, _ = signed_in(world, world.web)
    user_id = world.user["id"]
    if how == "suspend":
        assert world.api.post(f"/users/{user_id}/deactivate", token=world.tenant.access).status == 200
        assert world.api.post(f"/users/{user_id}/activate", token=world.tenant.access).status == 200
    else:
        changed = world.api.patch(
            f"/users/{user_id}", token=world.tenant.access, json_body={"password": "New-Pass-1234"}
        )
        assert changed.status == 200, changed.body
    assert redirect_query(authorize(world, world.web, cookie, prompt="none"))["error"] == ["login_required"]
    assert authorize(world, world.web, cookie).status == 200  # the form


def test_a_session_belongs_to_its_organization(
    world: LoginWorld, api: InProcessApi, platform: AdminCredentials
) -> None:
    cookie, _ = signed_in(world, world.web)
    other = login_world(api, platform)
    value = cookie.split("=", 1)[1]
    for name in (cookie.split("=", 1)[0], f"umapi_session_{other.tenant.org_id}"):
        answer = authorize(other, other.web, f"{name}={value}", prompt="none")
        assert redirect_query(answer)["error"] == ["login_required"], name


def test_garbage_cookies_are_no_session(world: LoginWorld) -> None:
    name = f"umapi_session_{world.tenant.org_id}"
    for value in ("x", "é", "a" * 5000, '"quoted"', ";"):
        answer = authorize(world, world.web, f"{name}={value}", prompt="none")
        assert redirect_query(answer)["error"] == ["login_required"], value


# --------------------------------------------------------------------------- logout
def register_logout_uri(world: LoginWorld, app: App) -> None:
    answer = world.api.patch(
        f"/clients/{app.client_id}", token=world.tenant.access, json_body={"post_logout_redirect_uris": [LOGOUT_TO]}
    )
    assert answer.status == 200, answer.body
    assert answer.json()["post_logout_redirect_uris"] == [LOGOUT_TO]


def logout(world: LoginWorld, cookie: str | None, **params: str) -> ApiResponse:
    return world.api.get("/oauth/logout", query=params, headers={"Cookie": cookie} if cookie else {})


def test_rp_initiated_logout_ends_the_session_and_the_sign_ins_refresh_family(world: LoginWorld) -> None:
    register_logout_uri(world, world.web)
    cookie, tokens = signed_in(world, world.web)
    _, elsewhere = signed_in(world, world.web)  # the same user on another device
    answer = logout(world, cookie, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGOUT_TO, state="bye")
    assert answer.status == 302, answer.body
    assert answer.header("Location") == f"{LOGOUT_TO}?state=bye"
    expired = answer.header("Set-Cookie") or ""
    assert expired.startswith(f"umapi_session_{world.tenant.org_id}=;")
    assert "Max-Age=0" in expired
    assert redirect_query(authorize(world, world.web, cookie, prompt="none"))["error"] == ["login_required"]
    assert refresh(world, world.web, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh(world, world.web, elsewhere["refresh_token"]).status == 200  # only that sign-in


def test_logout_without_a_redirect_shows_a_page(world: LoginWorld) -> None:
    cookie, tokens = signed_in(world, world.web)
    answer = logout(world, cookie, id_token_hint=tokens["id_token"])
    assert answer.status == 200
    assert "You are signed out" in answer.body
    assert redirect_query(authorize(world, world.web, cookie, prompt="none"))["error"] == ["login_required"]


def test_an_unregistered_redirect_is_an_error_page_and_ends_nothing(world: LoginWorld) -> None:
    register_logout_uri(world, world.web)
    cookie, tokens = signed_in(world, world.web)
    for target in ("https://evil.example/", f"{LOGOUT_TO}/more", LOGOUT_TO.upper()):
        answer = logout(world, cookie, id_token_hint=tokens["id_token"], post_logout_redirect_uri=target)
        assert answer.status == 400
        assert answer.header("Location") is None
        assert "not registered" in answer.body
    spa_only = logout(world, cookie, client_id=world.spa.client_id, post_logout_redirect_uri=LOGOUT_TO)
    assert spa_only.status == 400  # registered for the web app, not the SPA
    assert "code" in redirect_query(authorize(world, world.web, cookie, prompt="none"))
    assert refresh(world, world.web, tokens["refresh_token"]).status == 200


def test_a_forged_or_foreign_hint_is_refused_and_an_expired_one_still_works(world: LoginWorld) -> None:
    register_logout_uri(world, world.web)
    cookie, tokens = signed_in(world, world.web)
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"typ": "JWT"})
    access_as_hint = tokens["access_token"]  # typ at+jwt: not an ID token
    for hint in (forged, access_as_hint, "garbage", "a.b.c"):
        answer = logout(world, cookie, id_token_hint=hint, post_logout_redirect_uri=LOGOUT_TO)
        assert answer.status == 400, hint
    mismatch = logout(world, cookie, id_token_hint=tokens["id_token"], client_id=world.spa.client_id)
    assert mismatch.status == 400

    key = signing_keys().current()
    expired = jwt.encode(
        claims | {"iat": claims["iat"] - 7200, "exp": int(time.time()) - 3600},
        key.private_key,
        algorithm="RS256",
        headers={"kid": key.kid, "typ": "JWT"},
    )
    answer = logout(world, cookie, id_token_hint=expired, post_logout_redirect_uri=LOGOUT_TO)
    assert answer.status == 302
    assert refresh(world, world.web, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_logout_without_a_hint_asks_first(world: LoginWorld) -> None:
    cookie, tokens = signed_in(world, world.web)
    page = logout(world, cookie)
    assert page.status == 200
    assert "<form method=post action=logout>" in page.body
    assert "code" in redirect_query(authorize(world, world.web, cookie, prompt="none"))  # nothing ended yet
    confirmed = world.api.post("/oauth/logout", form={}, headers={"Cookie": cookie})
    assert confirmed.status == 200
    assert "You are signed out" in confirmed.body
    assert redirect_query(authorize(world, world.web, cookie, prompt="none"))["error"] == ["login_required"]
    assert refresh(world, world.web, tokens["refresh_token"]).status == 200  # no hint: no family to end


def test_clients_register_post_logout_redirect_uris(world: LoginWorld) -> None:
    created = world.api.post(
        "/clients",
        token=world.tenant.access,
        json_body={
            "name": "Logout",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://a.example/cb"],
            "post_logout_redirect_uris": ["https://a.example/bye", "http://127.0.0.1:9000/bye"],
        },
    )
    assert created.status == 201, created.body
    assert created.json()["post_logout_redirect_uris"] == ["https://a.example/bye", "http://127.0.0.1:9000/bye"]
    assert world.api.get("/clients", token=world.tenant.access).status == 200
    for bad in (["http://a.example/bye"], ["https://a.example/#frag"], ["https://a.example/x"] * 2):
        answer = world.api.patch(
            f"/clients/{created.json()['id']}", token=world.tenant.access, json_body={"post_logout_redirect_uris": bad}
        )
        assert answer.status == 400, bad
