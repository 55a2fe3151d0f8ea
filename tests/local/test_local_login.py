"""Sign-in over HTTP against the local runtime: a real OAuth and OpenID Connect client library
(Authlib, as a relying party), and refresh races."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from typing import Any

import pytest
import requests
from authlib.integrations.base_client import BaseApp, FrameworkIntegration, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc.errors import InvalidClaimError

from devserver.runtime import LocalRuntime
from tests.support.http import admin_headers, new_client, new_org

pytestmark = pytest.mark.e2e
REDIRECT = "http://127.0.0.1:8765/callback"
PASSWORD = "Sign-In-Pass-77"


@pytest.fixture(scope="module")
def app(local_api: LocalRuntime) -> dict[str, Any]:
    """An organization, a public SPA client, and an active user with a password."""
    headers = admin_headers(local_api)
    org = new_org(local_api, headers, "Login")
    client = new_client(
        local_api,
        headers,
        org,
        name="SPA",
        public=True,
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT],
        scopes=["users:read", "users:update"],
    )
    user = requests.post(
        f"{local_api.url}/users",
        params={"org_id": org},
        json={"email": "oauth@example.com", "name": "OAuth", "role": "admin", "password": PASSWORD},
        headers=headers,
        timeout=30,
    ).json()
    requests.post(f"{local_api.url}/users/{user['id']}/activate", params={"org_id": org}, headers=headers, timeout=30)
    return {"client_id": client["id"], "user": user, "org_id": org}


def browser_sign_in(url: str, authorization_url: str, browser: requests.Session | None = None) -> str:
    """What a person does: open the page, fill the form, get redirected."""
    browser = browser or requests.Session()  # keeps the form's and the session's cookies, as a browser does
    page = browser.get(authorization_url, timeout=30)
    assert page.status_code == 200, page.text
    form = {
        unescape(n): unescape(v)
        for n, v in re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", page.text)
    }
    answer = browser.post(
        f"{url}/oauth/authorize",
        data=form | {"email": "oauth@example.com", "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def test_authlib_completes_code_pkce_and_refresh(local_api: LocalRuntime, app: dict[str, Any]) -> None:
    session = OAuth2Session(
        client_id=app["client_id"],
        redirect_uri=REDIRECT,
        scope="users:read",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = "v" * 64
    authorization_url, state = session.create_authorization_url(
        f"{local_api.url}/oauth/authorize", code_verifier=verifier
    )
    callback = browser_sign_in(local_api.url, authorization_url)
    token = session.fetch_token(f"{local_api.url}/auth/token", authorization_response=callback, code_verifier=verifier)
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "users:read"
    me = session.get(f"{local_api.url}/users/me")
    assert me.status_code == 200
    assert me.json()["email"] == "oauth@example.com"

    refreshed = session.refresh_token(f"{local_api.url}/auth/token", refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert session.get(f"{local_api.url}/users/me").status_code == 200
    assert state


class RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]  # Authlib ships no types
    """Authlib's OpenID Connect client (what its Flask, Django and Starlette apps are), over requests."""

    client_cls = OAuth2Session


def relying_party(local_api: LocalRuntime, client_id: str) -> RelyingParty:
    return RelyingParty(
        FrameworkIntegration("umapi"),
        client_id=client_id,
        server_metadata_url=f"{local_api.url}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile email",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "none",
        },
    )


def test_authlib_signs_in_with_openid_connect(local_api: LocalRuntime, app: dict[str, Any]) -> None:
    """Discovery, code + PKCE + nonce, the ID token checked by Authlib itself (signature from the
    JWKS, iss, aud, exp, iat, nonce, at_hash), /userinfo, then RP-initiated logout through the
    discovery document's end_session_endpoint."""
    signed_out = "http://127.0.0.1:8765/signed-out"
    registered = requests.patch(
        f"{local_api.url}/clients/{app['client_id']}",
        params={"org_id": app["org_id"]},
        json={"post_logout_redirect_uris": [signed_out]},
        headers=admin_headers(local_api),
        timeout=30,
    )
    assert registered.status_code == 200, registered.text
    rp = relying_party(local_api, app["client_id"])
    started = rp.create_authorization_url(redirect_uri=REDIRECT)
    assert started["nonce"]
    browser = requests.Session()
    callback = browser_sign_in(local_api.url, started["url"], browser)
    query = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", callback))
    assert query["state"] == started["state"]
    token = rp.fetch_access_token(redirect_uri=REDIRECT, code=query["code"], code_verifier=started["code_verifier"])
    assert token["scope"] == "openid profile email"

    claims = rp.parse_id_token(token, nonce=started["nonce"])
    assert claims["sub"] == app["user"]["id"]
    assert claims["email"] == "oauth@example.com"
    assert claims["name"] == "OAuth"
    assert claims["amr"] == ["pwd"]
    with pytest.raises(InvalidClaimError):  # Authlib's own check, which a replayed response fails
        rp.parse_id_token(token, nonce="another-nonce")
    forged = token | {"access_token": token["access_token"][:-4] + "AAAA"}
    with pytest.raises(InvalidClaimError):  # at_hash binds the ID token to its access token
        rp.parse_id_token(forged, nonce=started["nonce"])

    info = rp.userinfo(token=token)
    assert info["sub"] == claims["sub"]
    assert info["email"] == "oauth@example.com"

    # Signed in already: the browser's session answers the next request without the form.
    again = browser.get(rp.create_authorization_url(redirect_uri=REDIRECT)["url"], allow_redirects=False, timeout=30)
    assert again.status_code == 302
    assert "code=" in again.headers["Location"]

    logout = rp.create_logout_url(post_logout_redirect_uri=signed_out, id_token_hint=token["id_token"])
    answer = browser.get(logout["url"], allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"] == f"{signed_out}?state={logout['state']}"
    with pytest.raises(OAuthError, match="invalid_grant"):  # the sign-in's refresh token ended with it
        rp.fetch_access_token(grant_type="refresh_token", refresh_token=token["refresh_token"])
    silent = browser.get(
        rp.create_authorization_url(redirect_uri=REDIRECT, prompt="none")["url"], allow_redirects=False, timeout=30
    )
    assert "error=login_required" in silent.headers["Location"]  # and so did the browser's session
    assert info["email_verified"] is claims["email_verified"] is False  # created by an admin, never verified


def test_ten_concurrent_refreshes_of_one_token_let_exactly_one_through(
    local_api: LocalRuntime, app: dict[str, Any]
) -> None:
    session = OAuth2Session(
        client_id=app["client_id"],
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = "w" * 64
    authorization_url, _ = session.create_authorization_url(f"{local_api.url}/oauth/authorize", code_verifier=verifier)
    callback = browser_sign_in(local_api.url, authorization_url)
    token = session.fetch_token(f"{local_api.url}/auth/token", authorization_response=callback, code_verifier=verifier)

    def use(_: int) -> int:
        return requests.post(
            f"{local_api.url}/auth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": app["client_id"],
            },
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = Counter(pool.map(use, range(10)))
    assert statuses == Counter({200: 1, 400: 9}), statuses


def open_forms(
    local_api: LocalRuntime, app: dict[str, Any], count: int
) -> list[tuple[requests.Session, dict[str, str]]]:
    """``count`` browsers, each with the sign-in form it opened (and its cookie)."""
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    forms = []
    for _ in range(count):
        browser = requests.Session()
        page = browser.get(f"{local_api.url}/oauth/authorize", params=params, timeout=30)
        assert page.status_code == 200, page.text
        hidden = re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", page.text)
        forms.append((browser, {unescape(n): unescape(v) for n, v in hidden}))
    return forms


def test_thirty_concurrent_wrong_passwords_get_exactly_five_checks(
    local_api: LocalRuntime, app: dict[str, Any]
) -> None:
    forms = open_forms(local_api, app, 30)

    def guess(index: int) -> int:
        browser, form = forms[index]
        answer = browser.post(
            f"{local_api.url}/oauth/authorize",
            data=form | {"email": "victim@example.com", "password": f"Wrong-Guess-{index}!"},
            allow_redirects=False,
            timeout=60,
        )
        return answer.status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = Counter(pool.map(guess, range(30)))
    assert statuses == Counter({401: 5, 429: 25}), statuses


def test_concurrent_correct_sign_ins_of_one_user_all_succeed(local_api: LocalRuntime, app: dict[str, Any]) -> None:
    forms = open_forms(local_api, app, 6)

    def sign_in(index: int) -> int:
        browser, form = forms[index]
        answer = browser.post(
            f"{local_api.url}/oauth/authorize",
            data=form | {"email": "oauth@example.com", "password": PASSWORD},
            allow_redirects=False,
            timeout=60,
        )
        return answer.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = Counter(pool.map(sign_in, range(6)))
    assert statuses == Counter({302: 6}), statuses
