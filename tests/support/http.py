"""Client-side steps the HTTP tests repeat against the local runtime."""

from __future__ import annotations

from typing import Any

import requests

from devserver.runtime import LocalRuntime


def client_token(url: str, client_id: str, secret: str) -> str:
    """An access token for a client (``client_credentials``, HTTP Basic)."""
    response = requests.post(
        f"{url}/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=30
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def admin_headers(runtime: LocalRuntime) -> dict[str, str]:
    """``Authorization`` for the runtime's seeded platform-admin client."""
    assert runtime.admin is not None
    return {
        "Authorization": f"Bearer {client_token(runtime.url, runtime.admin.client_id, runtime.admin.client_secret)}"
    }


def new_org(runtime: LocalRuntime, headers: dict[str, str], name: str) -> str:
    response = requests.post(f"{runtime.url}/orgs", json={"name": name}, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def new_client(runtime: LocalRuntime, headers: dict[str, str], org: str, **body: Any) -> dict[str, Any]:
    """A client of ``org`` made by the platform admin (``headers``): the answer, secret included."""
    response = requests.post(f"{runtime.url}/clients", params={"org_id": org}, json=body, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return dict(response.json())
