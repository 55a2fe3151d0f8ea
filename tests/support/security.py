"""Helpers of the security tests: a client holding given scopes, and the 403 a missing permission gives."""

from __future__ import annotations

from typing import Any

from tests.support.api import ApiResponse, InProcessApi
from tests.support.flows import admin_token, new_client, token
from tests.support.login import LoginWorld
from umapi.bootstrap import AdminCredentials


def client_in(api: InProcessApi, platform: AdminCredentials, org: str, scopes: list[str], **extra: Any) -> str:
    """A token of a new client of ``org`` holding ``scopes``."""
    created = new_client(api, admin_token(api, platform), org, scopes, rate_limit_per_minute=100_000, **extra)
    return token(api, created.client_id, created.client_secret)


def forbidden(response: ApiResponse, permission: str) -> None:
    assert response.status == 403, response.body
    assert response.error["code"] == "forbidden"
    assert response.error["required_permission"] == permission


def register_app(world: LoginWorld, platform: AdminCredentials, **body: Any) -> dict[str, Any]:
    """A new sign-in client in the world's organization."""
    created = world.api.post(
        "/clients",
        token=admin_token(world.api, platform),
        query={"org_id": world.tenant.org_id},
        json_body={"grant_types": ["authorization_code"], **body},
    )
    assert created.status == 201, created.body
    return dict(created.json())
