"""The sign-in's attack surface: strangers spending a public client's quota, redirect URIs with
control characters, CSRF on the form, loopback redirects. (The adversarial review's findings,
each tried again as an attacker would; every test failed before its fix.)"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.api import InProcessApi
from tests.support.flows import admin_token
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
    sign_in,
)
from tests.support.security import register_app
from tests.support.users import Tenant
from umapi.access.permissions import PERMISSIONS
from umapi.bootstrap import AdminCredentials

ALL = list(PERMISSIONS)


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
