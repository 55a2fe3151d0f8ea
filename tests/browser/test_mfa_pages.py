"""Multi-factor sign-in in a real browser (docs/api.md §11): password + TOTP, a recovery code,
forced enrolment from the page's own key, and passkeys through Chromium's virtual authenticator
(registration, sign-in, and a counter that went backwards). Screenshots of each page are taken
as it is shown (tests/browser/conftest.py says where they go)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pyotp
import pytest
import requests
from playwright.sync_api import Page, expect

from devserver.runtime import LocalRuntime
from tests.browser.conftest import PASSWORD, new_user, screenshot, virtual_authenticator
from tests.support.authenticator import clear_of_a_step_boundary


@pytest.fixture(autouse=True)
def _steady_totp_step() -> None:
    """Codes computed for this step (or one either side) keep their meaning through the test."""
    clear_of_a_step_boundary(12)


class Authorization:
    """One authorization request of the public client, with its PKCE verifier."""

    def __init__(self, site: str, tenant: dict[str, Any], *, fresh: bool = False) -> None:
        self.site = site
        self.client_id = tenant["client_id"]
        self.callback = tenant["callback"]
        self.verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.callback,
            "scope": "users:read",
            "state": "browser",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if fresh:  # sign in again, although this browser is signed in (OpenID Connect's prompt=login)
            query["prompt"] = "login"
        self.url = f"{site}/oauth/authorize?{urlencode(query)}"

    def tokens(self, callback_url: str) -> dict[str, Any]:
        query = parse_qs(urlsplit(callback_url).query)
        assert query.get("state") == ["browser"], callback_url
        answer = requests.post(
            f"{self.site}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": self.callback,
                "client_id": self.client_id,
                "code_verifier": self.verifier,
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def amr(tokens: dict[str, Any]) -> list[str]:
    return list(jwt.decode(tokens["access_token"], options={"verify_signature": False})["amr"])


def password_step(page: Page, auth: Authorization, email: str, shot: str | None = None) -> None:
    """Open the sign-in page and give the email, then the password."""
    page.goto(auth.url)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(PASSWORD)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()


def back_at_the_client(page: Page, auth: Authorization) -> dict[str, Any]:
    page.wait_for_url(f"{auth.callback}**")
    return auth.tokens(page.url)


def token_by_password(site: str, tenant: dict[str, Any], email: str) -> str:
    """A user token without a browser (the user has no second factor yet): the form, posted."""
    auth = Authorization(site, tenant)
    session = requests.Session()
    form_page = session.get(auth.url, timeout=30)
    hidden = {
        unescape(n): unescape(v)
        for n, v in re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", form_page.text)
    }
    done = session.post(
        f"{site}/oauth/authorize",
        data={**hidden, "email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302, done.text
    return str(auth.tokens(done.headers["Location"])["access_token"])


def enrol_totp(site: str, token: str) -> dict[str, Any]:
    """A confirmed TOTP factor through the API: its secret and recovery codes."""
    headers = {"Authorization": f"Bearer {token}"}
    enrolment = requests.post(f"{site}/users/me/mfa/totp", headers=headers, timeout=30).json()
    secret = enrolment["secret"]
    code = pyotp.TOTP(secret).at(time.time() - 30)  # the step before: the sign-in's code comes later
    confirmed = requests.post(
        f"{site}/users/me/mfa/totp/{enrolment['factor_id']}/confirm", json={"code": code}, headers=headers, timeout=30
    )
    assert confirmed.status_code == 200, confirmed.text
    return {"secret": secret, "codes": confirmed.json()["recovery_codes"]}


def test_password_then_totp(page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]) -> None:
    user = new_user(local_api, tenant, "totp@example.com")
    factor = enrol_totp(site, token_by_password(site, tenant, user["email"]))
    auth = Authorization(site, tenant)
    password_step(page, auth, user["email"], shot="sign-in-password")
    field = page.get_by_label("Code from your authenticator app")
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    expect(field).to_have_attribute("inputmode", "numeric")
    expect(field).to_be_focused()
    screenshot(page, "mfa-code")
    page.keyboard.type(pyotp.TOTP(factor["secret"]).now())
    page.keyboard.press("Enter")
    assert amr(back_at_the_client(page, auth)) == ["pwd", "otp", "mfa"]


def test_a_recovery_code(page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]) -> None:
    user = new_user(local_api, tenant, "recovery@example.com")
    factor = enrol_totp(site, token_by_password(site, tenant, user["email"]))
    auth = Authorization(site, tenant)
    password_step(page, auth, user["email"])
    page.get_by_text("Use a recovery code").click()
    page.get_by_label("Recovery code").fill(factor["codes"][0].upper())
    screenshot(page, "mfa-recovery-code")
    page.get_by_role("button", name="Use recovery code").click()
    assert amr(back_at_the_client(page, auth)) == ["pwd", "mfa"]
    # Spent: the same code fails the next time, with the reason on the page.
    again = Authorization(site, tenant, fresh=True)
    password_step(page, again, user["email"])
    page.get_by_text("Use a recovery code").click()
    page.get_by_label("Recovery code").fill(factor["codes"][0])
    page.get_by_role("button", name="Use recovery code").click()
    expect(page.get_by_role("alert")).to_contain_text("not a current code")


def test_forced_enrolment_from_the_pages_key(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    user = new_user(local_api, tenant, "forced@example.com", mfa_enabled=True)
    auth = Authorization(site, tenant)
    password_step(page, auth, user["email"])
    expect(page.locator("svg")).to_be_visible()
    screenshot(page, "mfa-enrol")
    key = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "mfa-recovery-codes")
    page.get_by_role("link", name="I saved them: continue").click()
    assert amr(back_at_the_client(page, auth)) == ["pwd", "otp", "mfa"]


# ------------------------------------------------------------------ passkeys
REGISTER = """async (token) => {
  const headers = {Authorization: "Bearer " + token};
  const options = await (await fetch("/users/me/mfa/webauthn/options", {method: "POST", headers})).json();
  const credential = await navigator.credentials.create(
    {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)});
  const answer = await fetch("/users/me/mfa/webauthn", {
    method: "POST",
    headers: {...headers, "Content-Type": "application/json"},
    body: JSON.stringify({name: "Chromium", credential: credential.toJSON()}),
  });
  return {status: answer.status, body: await answer.json()};
}"""


def register_passkey(page: Page, site: str, token: str) -> dict[str, Any]:
    """Registration through the API from a page of the API's origin (as the dashboard will)."""
    page.context.route(f"{site}/blank", lambda route: route.fulfill(status=200, content_type="text/html", body=""))
    page.goto(f"{site}/blank")
    answer = page.evaluate(REGISTER, token)
    assert answer["status"] == 201, answer
    return dict(answer["body"])


def test_passkey_registration_and_sign_in(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    user = new_user(local_api, tenant, "passkey@example.com")
    virtual_authenticator(page)
    factor = register_passkey(page, site, token_by_password(site, tenant, user["email"]))
    assert factor["type"] == "webauthn"
    auth = Authorization(site, tenant)
    password_step(page, auth, user["email"])
    screenshot(page, "mfa-passkey")
    page.get_by_role("button", name="Use your passkey").click()
    assert amr(back_at_the_client(page, auth)) == ["pwd", "hwk", "mfa"]


def test_a_passkey_whose_counter_went_backwards_is_refused(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    user = new_user(local_api, tenant, "cloned@example.com")
    cdp, authenticator = virtual_authenticator(page)
    register_passkey(page, site, token_by_password(site, tenant, user["email"]))
    for _ in range(2):  # two sign-ins: the stored counter moves on
        auth = Authorization(site, tenant, fresh=True)
        password_step(page, auth, user["email"])
        page.get_by_role("button", name="Use your passkey").click()
        back_at_the_client(page, auth)
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credential["signCount"] >= 2
    # A copy of the key made before those sign-ins: its counter is behind.
    cdp.send(
        "WebAuthn.removeCredential", {"authenticatorId": authenticator, "credentialId": credential["credentialId"]}
    )
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {**credential, "signCount": 0}})
    auth = Authorization(site, tenant, fresh=True)
    password_step(page, auth, user["email"])
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("passkey was not accepted")
    assert page.url.startswith(site)
    screenshot(page, "mfa-passkey-refused")
