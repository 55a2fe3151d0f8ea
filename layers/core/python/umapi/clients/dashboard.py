"""Every organization's developer dashboard client (docs/api.md §13).

The dashboard (``/dashboard``) signs users in with the product's own authorization code flow,
as a public client (PKCE S256) of their organization. Each organization gets one when it is
created (``scripts/migrate.py dashboard-clients`` gives existing ones theirs). Its id is the
organization's own ULID (``org_X`` → ``cli_X``), so the dashboard finds it from the
organization id alone. Its redirect URI is the dashboard of the deployment that answers the
request (``{issuer}/dashboard``), not a stored address, so a new domain needs no change. It
holds every organization permission as scope: a user's token is still cut to what the user
holds, on every request. It cannot be changed, rotated or deleted through the API.
"""

from __future__ import annotations

from umapi.access.permissions import PERMISSIONS, PLATFORM_ADMIN
from umapi.clients.entities import Client

DASHBOARD_PATH = "/dashboard"
DASHBOARD_NAME = "Developer Dashboard"


def dashboard_client_id(org_id: str) -> str:
    return "cli_" + org_id.removeprefix("org_")


def dashboard_client(org_id: str, now: str, *, platform: bool = False) -> Client:
    """The dashboard client of ``org_id`` (``platform``: the platform organization's, which may
    also carry ``platform:admin`` for the platform's own administrators)."""
    scopes = sorted(PERMISSIONS if platform else set(PERMISSIONS) - {PLATFORM_ADMIN})
    return Client(
        id=dashboard_client_id(org_id),
        org_id=org_id,
        name=DASHBOARD_NAME,
        grant_types=["authorization_code", "refresh_token"],
        scopes=scopes,
        redirect_uris=[],
        public=True,
        rate_limit_per_minute=None,
        created_at=now,
        updated_at=now,
        dashboard=True,
    )


def dashboard_url(issuer: str) -> str:
    """Where the dashboard of the deployment at ``issuer`` is: its redirect URI too."""
    return f"{issuer.rstrip('/')}{DASHBOARD_PATH}"
