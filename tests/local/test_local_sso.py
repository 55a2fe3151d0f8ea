"""Federated sign-in against a real OpenID provider (docs/api.md §12): node's ``oidc-provider``
(certified by the OpenID Foundation), installed from npm into ``tests/idp/node_modules`` (its
lock file is committed) and started on 127.0.0.1, and the local runtime as ``make dev`` serves
it. The provider signs in whoever the ``login_hint`` names and, on request, answers the token
endpoint the ways a broken or hostile provider would (tests/idp/server.mjs)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import pytest
import requests

from devserver.runtime import LocalRuntime
from tests.support.http import admin_headers, client_token, new_client, new_org
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, oidc_provider

pytestmark = pytest.mark.e2e
REDIRECT = "http://127.0.0.1:8765/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
DOMAIN = "acme-sso.example"
ACCOUNTS = {
    f"ada@{DOMAIN}": {"email_verified": True, "name": "Ada Lovelace"},
    f"bob@{DOMAIN}": {"email_verified": False, "name": "Bob"},
    f"carol@{DOMAIN}": {"email_verified": True, "name": "Carol"},
    "eve@elsewhere.example": {"email_verified": True, "name": "Eve"},
    f"dan@{DOMAIN}": {"email_verified": True, "name": "Dan"},
    "boss@victims.example": {"email_verified": True, "name": "Boss"},
    "staff@victims.example": {"email_verified": True, "name": "Staff"},
}


@pytest.fixture(scope="module")
def provider(local_api: LocalRuntime) -> Iterator[Provider]:
    with oidc_provider(f"{local_api.url}/oauth/callback", ACCOUNTS) as running:
        yield running


@pytest.fixture(scope="module")
def org(local_api: LocalRuntime, provider: Provider) -> dict[str, Any]:
    """An organization with an SSO connection to the provider, a public app, and two users made
    by the admin: one the provider verifies the email of, and one it does not."""
    headers = admin_headers(local_api)
    org_id = new_org(local_api, headers, "SSO")
    app = new_client(
        local_api,
        headers,
        org_id,
        name="SSO app",
        public=True,
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT],
        scopes=["users:read"],
    )
    connection = requests.post(
        f"{local_api.url}/sso-connections",
        params={"org_id": org_id},
        json={
            "name": "Acme IdP",
            "type": "oidc",
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "domains": [DOMAIN],
        },
        headers=headers,
        timeout=30,
    )
    assert connection.status_code == 201, connection.text
    users = {}
    for name in ("bob", "carol"):
        body = {"email": f"{name}@{DOMAIN}", "name": name.title(), "password": "Pass-Word-1234"}
        users[name] = active_user(local_api, headers, org_id, body)
    return {"id": org_id, "client_id": app["id"], "connection": connection.json(), "users": users, "headers": headers}


def active_user(local_api: LocalRuntime, headers: dict[str, str], org_id: str, body: dict[str, Any]) -> dict[str, Any]:
    made = requests.post(f"{local_api.url}/users", params={"org_id": org_id}, json=body, headers=headers, timeout=30)
    assert made.status_code == 201, made.text
    activated = requests.post(
        f"{local_api.url}/users/{made.json()['id']}/activate", params={"org_id": org_id}, headers=headers, timeout=30
    )
    assert activated.status_code == 200, activated.text
    return dict(made.json())


def authorization_url(url: str, org: dict[str, Any], **extra: str) -> str:
    query = {
        "response_type": "code",
        "client_id": org["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "openid email profile users:read",
        "state": "st-1",
        "nonce": "client-nonce",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    } | extra
    return f"{url}/oauth/authorize?{urlencode(query)}"


def federate(local_api: LocalRuntime, org: dict[str, Any], email: str) -> requests.Response:
    """A person at the email-first page: the email, the organization's provider, and back to our
    callback. The answer of the last of our pages (the redirect to the app, or a refusal)."""
    browser = requests.Session()
    page = browser.get(authorization_url(local_api.url, org), timeout=30)
    assert page.status_code == 200
    assert "type=password" not in page.text.split("<form", 1)[1]  # email first
    form = {
        unescape(n): unescape(v)
        for n, v in re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", page.text)
    }
    answer = browser.post(
        f"{local_api.url}/oauth/authorize", data=form | {"email": email}, allow_redirects=False, timeout=30
    )
    for _ in range(10):
        location = answer.headers.get("Location", "")
        if answer.status_code not in (302, 303) or location.startswith(REDIRECT):
            return answer
        answer = browser.get(urljoin(answer.url, location), allow_redirects=False, timeout=30)
    raise AssertionError("too many redirects")


def code_of(answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text[answer.text.find("<main>") :][:500]
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def tokens_for(local_api: LocalRuntime, org: dict[str, Any], code: str) -> dict[str, Any]:
    answer = requests.post(
        f"{local_api.url}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": org["client_id"],
            "code_verifier": VERIFIER,
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def failures(local_api: LocalRuntime, org: dict[str, Any]) -> list[dict[str, Any]]:
    log = requests.get(
        f"{local_api.url}/audit-log",
        params={"org_id": org["id"], "action": "user.login_failed"},
        headers=org["headers"],
        timeout=30,
    )
    return list(log.json()["data"])


def test_a_new_person_is_provisioned_and_signed_in_to_the_app(
    local_api: LocalRuntime, provider: Provider, org: dict[str, Any]
) -> None:
    tokens = tokens_for(local_api, org, code_of(federate(local_api, org, f"ada@{DOMAIN}")))
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["idp"] == access["idp"] == org["connection"]["id"]
    assert claims["nonce"] == "client-nonce"
    assert claims["email"] == f"ada@{DOMAIN}"
    me = requests.get(
        f"{local_api.url}/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=30
    )
    assert me.status_code == 200, me.text
    user = me.json()
    assert (user["status"], user["email_verified"], user["sso_provider"], user["name"]) == (
        "active",
        True,
        "Acme IdP",
        "Ada Lovelace",
    )
    assert [role["id"] for role in user["roles"]] == ["role_member"]
    again = tokens_for(local_api, org, code_of(federate(local_api, org, f"ada@{DOMAIN}")))
    assert jwt.decode(again["id_token"], options={"verify_signature": False})["sub"] == user["id"]  # linked
    logins = requests.get(
        f"{local_api.url}/audit-log",
        params={"org_id": org["id"], "action": "user.login", "target_id": user["id"]},
        headers=org["headers"],
        timeout=30,
    ).json()["data"]
    assert len(logins) == 2
    assert logins[0]["changes"]["sso_connection"] == org["connection"]["id"]


def test_the_providers_amr_reaches_the_clients_tokens(
    local_api: LocalRuntime, provider: Provider, org: dict[str, Any]
) -> None:
    provider.mode("amr")  # the provider says it asked for a password and a second factor
    try:
        tokens = tokens_for(local_api, org, code_of(federate(local_api, org, f"ada@{DOMAIN}")))
    finally:
        provider.mode("ok")
    assert jwt.decode(tokens["id_token"], options={"verify_signature": False})["amr"] == ["pwd", "mfa"]


def test_an_existing_user_is_linked_only_when_the_provider_verified_the_email(
    local_api: LocalRuntime, provider: Provider, org: dict[str, Any]
) -> None:
    refused = federate(local_api, org, f"bob@{DOMAIN}")
    assert refused.status_code == 403
    assert "did not verify the email" in refused.text
    assert "Location" not in refused.headers
    assert any("did not verify" in entry["changes"]["reason"]["to"] for entry in failures(local_api, org))
    tokens = tokens_for(local_api, org, code_of(federate(local_api, org, f"carol@{DOMAIN}")))
    assert jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"] == org["users"]["carol"]["id"]


def test_enforce_refuses_passwords_for_the_connections_domains(
    local_api: LocalRuntime, provider: Provider, org: dict[str, Any]
) -> None:
    path = f"{local_api.url}/sso-connections/{org['connection']['id']}"
    assert requests.patch(
        path, params={"org_id": org["id"]}, json={"enforce": True}, headers=org["headers"], timeout=30
    ).ok
    try:
        with pytest.raises(AssertionError, match="403"):
            _password_sign_in(local_api, org, "carol")
    finally:
        requests.patch(path, params={"org_id": org["id"]}, json={"enforce": False}, headers=org["headers"], timeout=30)
    assert _password_sign_in(local_api, org, "carol").status_code == 302


def _password_sign_in(local_api: LocalRuntime, org: dict[str, Any], name: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(authorization_url(local_api.url, org, scope="users:read"), timeout=30)
    form = {
        unescape(n): unescape(v)
        for n, v in re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", page.text)
    }
    answer = browser.post(
        f"{local_api.url}/oauth/authorize",
        data=form | {"email": f"{name}@{DOMAIN}", "password": "Pass-Word-1234"},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise AssertionError(f"{answer.status_code}: {answer.text[:300]}")
    return answer


@pytest.mark.parametrize(
    ("mode", "status", "message"),
    [
        ("wrong-nonce", 400, "nonce"),
        ("wrong-aud", 400, "another client"),
        ("expired", 400, "expired"),
        ("bad-signature", 400, "signature"),
        ("error", 400, "refused the code"),
        ("slow", 502, "did not answer"),
        ("down", 502, "did not answer"),
        ("userinfo-other-sub", 400, "not about the user who signed in"),
    ],
)
def test_a_broken_or_hostile_provider_gets_no_code_a_clear_page_and_an_audit_entry(
    local_api: LocalRuntime, provider: Provider, org: dict[str, Any], mode: str, status: int, message: str
) -> None:
    before = len(failures(local_api, org))
    provider.mode(mode)
    started = time.monotonic()
    try:
        answer = federate(local_api, org, f"ada@{DOMAIN}")
    finally:
        provider.mode("ok")
    assert time.monotonic() - started < 12  # a slow provider never hangs the sign-in
    assert answer.status_code == status, answer.text[:500]
    assert "Location" not in answer.headers
    assert message in answer.text
    assert len(failures(local_api, org)) == before + 1


def test_the_way_back_is_single_use_and_bound_to_the_browser(
    local_api: LocalRuntime, provider: Provider, org: dict[str, Any]
) -> None:
    stray = requests.get(f"{local_api.url}/oauth/callback", params={"state": "made-up", "code": "x"}, timeout=30)
    assert stray.status_code == 400
    assert "expired or was already used" in stray.text


def test_a_connection_never_links_an_account_above_its_administrator(
    local_api: LocalRuntime, provider: Provider
) -> None:
    """Someone who may set up SSO (sso:write) but holds less than an admin cannot take over the
    admin's account by pointing a connection at a provider they control."""
    headers = admin_headers(local_api)
    org_id = new_org(local_api, headers, "Victims")
    app = new_client(
        local_api,
        headers,
        org_id,
        name="app",
        public=True,
        grant_types=["authorization_code"],
        redirect_uris=[REDIRECT],
        scopes=["users:read"],
    )
    for name, role in (("boss", "admin"), ("staff", "member")):
        active_user(local_api, headers, org_id, {"email": f"{name}@victims.example", "name": name, "role": role})
    lesser = new_client(
        local_api, headers, org_id, name="sso admin", scopes=["sso:read", "sso:write", "users:read", "roles:read"]
    )
    lesser_token = client_token(local_api.url, lesser["id"], lesser["client_secret"])
    connection = requests.post(
        f"{local_api.url}/sso-connections",
        json={
            "name": "Their IdP",
            "type": "oidc",
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "domains": ["victims.example"],
        },
        headers={"Authorization": f"Bearer {lesser_token}"},
        timeout=30,
    )
    assert connection.status_code == 201, connection.text
    org = {"id": org_id, "client_id": app["id"], "headers": headers}
    refused = federate(local_api, org, "boss@victims.example")
    assert refused.status_code == 403
    assert "beyond those of the administrator" in refused.text
    assert code_of(federate(local_api, org, "staff@victims.example"))  # a member's account links


def test_a_jit_admin_goes_through_the_users_own_path(
    local_api: LocalRuntime, provider: Provider, org: dict[str, Any]
) -> None:
    """The default role is assigned as any role is: the new admin is in the admin listing."""
    path = f"{local_api.url}/sso-connections/{org['connection']['id']}"
    patched = requests.patch(
        path, params={"org_id": org["id"]}, json={"default_role": "admin"}, headers=org["headers"], timeout=30
    )
    assert patched.status_code == 200, patched.text
    try:
        tokens = tokens_for(local_api, org, code_of(federate(local_api, org, f"dan@{DOMAIN}")))
    finally:
        requests.patch(
            path, params={"org_id": org["id"]}, json={"default_role": "member"}, headers=org["headers"], timeout=30
        )
    dan = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
    admins = requests.get(
        f"{local_api.url}/users", params={"org_id": org["id"], "role": "admin"}, headers=org["headers"], timeout=30
    ).json()["data"]
    assert dan in [user["id"] for user in admins]
