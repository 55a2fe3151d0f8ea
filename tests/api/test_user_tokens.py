"""User access tokens: permissions come from the user's roles now, and end when the user is
suspended, archived or changes password. (Tokens are signed here with the server's key; the
login flow that issues them is the authorization-code grant.)"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from tests.support.api import InProcessApi
from tests.support.flows import admin_token, new_client
from tests.support.users import Tenant
from umapi.access.permissions import PERMISSIONS
from umapi.bootstrap import AdminCredentials
from umapi.services import signing_keys

ISSUER = "http://127.0.0.1:3000"


def user_token(acme: Tenant, api: InProcessApi, platform: AdminCredentials, user: dict[str, Any], scope: str) -> str:
    app_client = new_client(api, admin_token(api, platform), acme.org_id, list(PERMISSIONS))
    key = signing_keys().current()
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": ISSUER,
        "sub": user["id"],
        "client_id": app_client.client_id,
        "org_id": acme.org_id,
        "scope": scope,
        "iat": now,
        "exp": now + 600,
        "jti": "at_user",
    }
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "at+jwt"})


def active_user(acme: Tenant, email: str, role: str = "member") -> dict[str, Any]:
    user = acme.user(email, role=role)
    return dict(acme.api.post(f"/users/{user['id']}/activate", token=acme.access).json())


def test_permissions_are_the_roles_within_the_scope(
    acme: Tenant, api: InProcessApi, platform: AdminCredentials
) -> None:
    user = active_user(acme, "member@example.com")
    broad = user_token(acme, api, platform, user, " ".join(PERMISSIONS))
    assert api.get("/users", token=broad).status == 200  # member holds users:read
    assert api.post("/users", token=broad, json_body={"email": "x@example.com", "name": "X"}).status == 403
    narrow = user_token(acme, api, platform, user, "roles:read")
    denied = api.get("/users", token=narrow)
    assert denied.status == 403
    assert denied.error["required_permission"] == "users:read"


def test_me_and_self_service(acme: Tenant, api: InProcessApi, platform: AdminCredentials) -> None:
    user = active_user(acme, "self@example.com", role="viewer")
    access = user_token(acme, api, platform, user, "")  # no permissions at all
    assert api.get("/users/me", token=access).json()["id"] == user["id"]
    renamed = api.patch(f"/users/{user['id']}", token=access, json_body={"name": "Me Myself"})
    assert renamed.status == 200
    assert renamed.json()["name"] == "Me Myself"
    status = api.patch(f"/users/{user['id']}", token=access, json_body={"status": "suspended"})
    assert status.status == 403


@pytest.mark.parametrize("how", ["suspend", "archive", "password", "purge"])
def test_tokens_end_at_once(acme: Tenant, api: InProcessApi, platform: AdminCredentials, how: str) -> None:
    user = active_user(acme, f"{how}@example.com")
    access = user_token(acme, api, platform, user, "users:read")
    assert api.get("/users/me", token=access).status == 200
    time.sleep(1.01)  # tokens are stamped in whole seconds
    if how == "suspend":
        api.post(f"/users/{user['id']}/deactivate", token=acme.access)
    elif how == "archive":
        api.delete(f"/users/{user['id']}", token=acme.access)
    elif how == "password":
        api.patch(f"/users/{user['id']}", token=access, json_body={"password": "Fresh-Start-42"})
    else:
        api.delete(f"/users/{user['id']}", token=acme.access, query={"force": "true"})
    revoked = api.get("/users/me", token=access)
    assert revoked.status == 401
    assert 'error="invalid_token"' in (revoked.header("WWW-Authenticate") or "")


def test_a_pending_user_cannot_act(acme: Tenant, api: InProcessApi, platform: AdminCredentials) -> None:
    user = acme.user("pending@example.com")
    assert api.get("/users/me", token=user_token(acme, api, platform, user, "users:read")).status == 401
