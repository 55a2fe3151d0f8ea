"""Small client-side flows the tests repeat: get a token, make an organization and a client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.api import InProcessApi
from umapi.bootstrap import AdminCredentials


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str
    org_id: str


def token(api: InProcessApi, client_id: str, secret: str, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope is not None else {})
    response = api.post("/auth/token", form=form, basic=(client_id, secret))
    assert response.status == 200, response.body
    return str(response.json()["access_token"])


def admin_token(api: InProcessApi, admin: AdminCredentials) -> str:
    return token(api, admin.client_id, admin.client_secret)


def new_org(api: InProcessApi, admin_access: str, name: str = "Acme") -> str:
    response = api.post("/orgs", token=admin_access, json_body={"name": name})
    assert response.status == 201, response.body
    return str(response.json()["id"])


def new_client(api: InProcessApi, admin_access: str, org_id: str, scopes: list[str], **extra: Any) -> ClientCredentials:
    body = {"name": "service", "grant_types": ["client_credentials"], "scopes": scopes, **extra}
    response = api.post("/clients", token=admin_access, json_body=body, query={"org_id": org_id})
    assert response.status == 201, response.body
    created = response.json()
    return ClientCredentials(created["id"], created["client_secret"], org_id)
