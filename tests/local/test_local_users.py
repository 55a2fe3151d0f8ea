"""Users over HTTP against the local runtime: concurrent creates, the email outbox, verification."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from devserver.runtime import LocalRuntime
from tests.support.http import admin_headers, new_org
from umapi.access.permissions import PERMISSIONS

pytestmark = pytest.mark.e2e


def test_twenty_concurrent_creates_of_one_email_make_one_user(local_api: LocalRuntime) -> None:
    headers = admin_headers(local_api)
    org, other = new_org(local_api, headers, "Race"), new_org(local_api, headers, "Elsewhere")
    spellings = ["race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.COM"]

    def create(index: int) -> int:
        response = requests.post(
            f"{local_api.url}/users",
            params={"org_id": org},
            json={"email": spellings[index % len(spellings)], "name": f"Racer {index}", "send_welcome_email": False},
            headers=headers,
            timeout=60,
        )
        if response.status_code == 409:
            assert response.json()["error"]["conflicting_field"] == "email"
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(create, range(20)))
    assert statuses == Counter({201: 1, 409: 19})

    listed = requests.get(f"{local_api.url}/users", params={"org_id": org}, headers=headers, timeout=30).json()
    assert len(listed["data"]) == 1
    elsewhere = requests.post(
        f"{local_api.url}/users",
        params={"org_id": other},
        json={"email": "race@example.com", "name": "Other org"},
        headers=headers,
        timeout=30,
    )
    assert elsewhere.status_code == 201


def test_verification_email_lands_in_the_local_outbox(local_api: LocalRuntime) -> None:
    headers = admin_headers(local_api)
    org = new_org(local_api, headers, "Mail")
    user = requests.post(
        f"{local_api.url}/users",
        params={"org_id": org},
        json={"email": "mail@example.com", "name": "Mail", "role": "admin"},
        headers=headers,
        timeout=30,
    ).json()
    emails = requests.get(f"{local_api.url}/_local/emails", timeout=30).json()["data"]
    newest = next(email for email in emails if email["to"] == "mail@example.com")
    assert newest["subject"]
    assert newest["sent_at"].endswith("Z")
    token = re.search(r"\?token=(\S+)$", newest["text"].strip(), re.MULTILINE)
    assert token
    verified = requests.post(
        f"{local_api.url}/auth/verify-email", json={"token": token.group(1), "password": "Str0ng-Enough!"}, timeout=30
    )
    assert verified.status_code == 200
    assert verified.json()["id"] == user["id"]
    assert verified.json()["status"] == "active"
    assert set(PERMISSIONS) <= set(
        requests.get(
            f"{local_api.url}/users/{user['id']}", params={"include": "permissions"}, headers=headers, timeout=30
        ).json()["permissions"]
    )


@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_demotions_of_the_last_two_admins_leave_one(local_api: LocalRuntime, attempt: int) -> None:
    headers = admin_headers(local_api)
    org = new_org(local_api, headers, f"Demotions {attempt}")
    admins = []
    for index in range(2):
        created = requests.post(
            f"{local_api.url}/users",
            params={"org_id": org},
            json={"email": f"admin{index}@example.com", "name": "Admin", "role": "admin", "send_welcome_email": False},
            headers=headers,
            timeout=30,
        ).json()
        activated = requests.post(
            f"{local_api.url}/users/{created['id']}/activate", params={"org_id": org}, headers=headers, timeout=30
        )
        assert activated.status_code == 200, activated.text
        admins.append(created["id"])

    def demote(user_id: str) -> int:
        url = f"{local_api.url}/users/{user_id}/roles/role_admin"
        return requests.delete(url, params={"org_id": org}, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = Counter(pool.map(demote, admins))
    assert statuses == Counter({204: 1, 422: 1})
    holders = requests.get(
        f"{local_api.url}/users", params={"org_id": org, "role": "admin"}, headers=headers, timeout=30
    ).json()["data"]
    assert len(holders) == 1
