"""Drive the sign-in like a browser: read the form, post it, follow the redirect."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.api import ApiResponse, InProcessApi
from tests.support.flows import admin_token
from tests.support.users import Tenant, new_tenant, verification_token
from umapi.access.permissions import PERMISSIONS
from umapi.bootstrap import AdminCredentials

REDIRECT = "https://app.example/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
PASSWORD = "Sign-In-Pass-77"


@dataclass
class App:
    client_id: str
    client_secret: str | None


@dataclass
class LoginWorld:
    api: InProcessApi
    tenant: Tenant
    web: App
    spa: App
    user: dict[str, Any]


def hidden_fields(page: str) -> dict[str, str]:
    return {
        unescape(n): unescape(v) for n, v in re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", page)
    }


def authorize_params(app: App, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT, "state": "xyz"}
    if app.client_secret is None:
        params |= {"code_challenge": CHALLENGE, "code_challenge_method": "S256"}
    return params | extra


def sign_in(
    world: LoginWorld, app: App, email: str | None = None, password: str = PASSWORD, **extra: str
) -> ApiResponse:
    form_page = world.api.get("/oauth/authorize", query=authorize_params(app, **extra))
    assert form_page.status == 200, form_page.body
    form = hidden_fields(form_page.body) | {"email": email or world.user["email"], "password": password}
    return world.api.post("/oauth/authorize", form=form, headers={"Cookie": form_cookie(form_page)})


def form_cookie(page: ApiResponse) -> str:
    """The ``name=value`` part of the sign-in form's ``Set-Cookie``, as a browser sends it back."""
    return (page.header("Set-Cookie") or "").split(";", 1)[0]


def code_from(response: ApiResponse) -> str:
    assert response.status == 302, response.body
    query = parse_qs(urlsplit(response.header("Location") or "").query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def exchange(world: LoginWorld, app: App, code: str, **extra: str) -> ApiResponse:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT} | extra
    if app.client_secret is None:
        form |= {"client_id": app.client_id, "code_verifier": extra.get("code_verifier", VERIFIER)}
        return world.api.post("/auth/token", form=form)
    return world.api.post("/auth/token", form=form, basic=(app.client_id, app.client_secret))


def refresh(world: LoginWorld, app: App, token: str) -> ApiResponse:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    if app.client_secret is None:
        return world.api.post("/auth/token", form=form | {"client_id": app.client_id})
    return world.api.post("/auth/token", form=form, basic=(app.client_id, app.client_secret))


def login_world(api: InProcessApi, platform: AdminCredentials) -> LoginWorld:
    tenant = new_tenant(api, platform)
    admin = admin_token(api, platform)
    apps = []
    for public in (False, True):
        body = {
            "name": "SPA" if public else "Web",
            "public": public,
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT],
            "scopes": list(PERMISSIONS),
        }
        created = api.post("/clients", token=admin, query={"org_id": tenant.org_id}, json_body=body).json()
        apps.append(App(created["id"], created["client_secret"]))
    # A second active admin, so the tests may suspend, archive or demote the one that signs in.
    keeper = tenant.user("keeper@example.com", name="Keeper", role="admin")
    assert api.post(f"/users/{keeper['id']}/activate", token=tenant.access).status == 200
    user = tenant.user("signin@example.com", name="Sign In", role="admin")
    verified = api.post(
        "/auth/verify-email", json_body={"token": verification_token(user["email"]), "password": PASSWORD}
    )
    assert verified.status == 200
    return LoginWorld(api, tenant, apps[0], apps[1], verified.json())
