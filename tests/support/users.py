"""Helpers for the users tests: an organization with a user manager, and the emails sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from devserver.outbox import sent_emails
from tests.support.api import ApiResponse, InProcessApi
from tests.support.flows import admin_token, new_client, new_org, token
from umapi.access.permissions import PERMISSIONS
from umapi.bootstrap import AdminCredentials


@dataclass
class Tenant:
    """An organization and a token of a client holding every permission in it."""

    api: InProcessApi
    org_id: str
    access: str

    def create(self, **body: Any) -> ApiResponse:
        return self.api.post("/users", token=self.access, json_body=body)

    def user(self, email: str, name: str = "Someone", **body: Any) -> dict[str, Any]:
        response = self.create(email=email, name=name, **body)
        assert response.status == 201, response.body
        return dict(response.json())

    def get(self, user_id: str, **kwargs: Any) -> ApiResponse:
        return self.api.get(f"/users/{user_id}", token=self.access, **kwargs)

    def patch(self, user_id: str, body: Any, **kwargs: Any) -> ApiResponse:
        return self.api.patch(f"/users/{user_id}", token=self.access, json_body=body, **kwargs)


def new_tenant(api: InProcessApi, platform: AdminCredentials, name: str = "Acme") -> Tenant:
    admin = admin_token(api, platform)
    org = new_org(api, admin, name)
    manager = new_client(api, admin, org, list(PERMISSIONS), rate_limit_per_minute=100_000)
    return Tenant(api, org, token(api, manager.client_id, manager.client_secret))


def verification_token(to: str) -> str:
    """The token of the newest verification email to ``to``."""
    for email in sent_emails("us-east-1"):
        if email["to"] == to:
            match = re.search(r"\?token=([A-Za-z0-9_-]+)\s*$", email["text"], re.MULTILINE)
            assert match, email["text"]
            return match.group(1)
    raise AssertionError(f"no email to {to}")
