"""The local runtime's demo organization (docs/api.md §13): its admin signs in, over HTTP, to the
organization's dashboard client at the runtime's own /dashboard."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devserver.demo import seed_demo
from devserver.runtime import LocalRuntime
from umapi.clients.dashboard import dashboard_client_id

pytestmark = pytest.mark.e2e


def test_the_demo_admin_signs_in_to_the_dashboard_client(
    local_api: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert local_api.admin is not None
    monkeypatch.setenv("LOCAL_DEMO_USER_EMAIL", "owner@demo.example")
    demo = seed_demo(local_api.url, local_api.admin)
    assert demo.email == "owner@demo.example"
    assert len(demo.password) >= 20
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    dashboard = f"{local_api.url}/dashboard"
    query = {
        "response_type": "code",
        "client_id": dashboard_client_id(demo.org_id),
        "redirect_uri": dashboard,
        "state": "demo",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    browser = requests.Session()
    page = browser.get(f"{local_api.url}/oauth/authorize", params=query, timeout=30)
    assert page.status_code == 200, page.text
    form = {
        unescape(n): unescape(v)
        for n, v in re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", page.text)
    }
    done = browser.post(
        f"{local_api.url}/oauth/authorize",
        data=form | {"email": demo.email, "password": demo.password},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302, done.text
    assert done.headers["Location"].startswith(dashboard)
    code = parse_qs(urlsplit(done.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        f"{local_api.url}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": dashboard,
            "client_id": dashboard_client_id(demo.org_id),
            "code_verifier": verifier,
        },
        timeout=30,
    ).json()
    me = requests.get(
        f"{local_api.url}/users/me",
        params={"include": "permissions"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=30,
    ).json()
    assert me["email"] == demo.email
    assert me["status"] == "active"
    assert "users:delete" in me["permissions"]  # an admin of the demo organization
