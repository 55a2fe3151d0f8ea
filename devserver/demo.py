"""The local runtime's demo organization (docs/api.md §13): an organization with an active admin
user whose email and password ``make dev`` prints, made through the API itself (the platform
admin's client creates them, as an operator would), so a newcomer can sign in at once.

``LOCAL_DEMO_USER_EMAIL`` and ``LOCAL_DEMO_USER_PASSWORD`` choose them; otherwise the email is
``admin@demo.example`` and the password is new on every start. Local only: a deployed stack has
no demo organization.
"""

from __future__ import annotations

import os
import secrets
from typing import NamedTuple

import requests

from umapi.bootstrap import AdminCredentials

DEFAULT_EMAIL = "admin@demo.example"


class DemoUser(NamedTuple):
    org_id: str
    email: str
    password: str


def new_password() -> str:
    """A password the API's policy accepts (upper, lower, digit, special), 20 random characters."""
    return f"Demo-{secrets.token_urlsafe(15)}7a!"


def seed_demo(url: str, admin: AdminCredentials, timeout: float = 30) -> DemoUser:
    token = requests.post(
        f"{url}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(admin.client_id, admin.client_secret),
        timeout=timeout,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    org = requests.post(f"{url}/orgs", json={"name": "Demo"}, headers=headers, timeout=timeout)
    org.raise_for_status()
    org_id = org.json()["id"]
    email = os.environ.get("LOCAL_DEMO_USER_EMAIL") or DEFAULT_EMAIL
    password = os.environ.get("LOCAL_DEMO_USER_PASSWORD") or new_password()
    body = {"email": email, "name": "Demo Admin", "role": "admin", "password": password, "send_welcome_email": False}
    user = requests.post(f"{url}/users", params={"org_id": org_id}, json=body, headers=headers, timeout=timeout)
    user.raise_for_status()
    activated = requests.post(
        f"{url}/users/{user.json()['id']}/activate", params={"org_id": org_id}, headers=headers, timeout=timeout
    )
    activated.raise_for_status()
    return DemoUser(org_id, email, password)


def print_demo(demo: DemoUser, url: str) -> None:
    print(
        f"Developer dashboard: {url}/dashboard?org={demo.org_id}\n"
        f"Demo organization (org {demo.org_id}), an admin who signs in with:\n"
        f"  LOCAL_DEMO_USER_EMAIL={demo.email}\n  LOCAL_DEMO_USER_PASSWORD={demo.password}"
    )
