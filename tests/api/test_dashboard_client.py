"""Every organization's developer dashboard client (docs/api.md §13): made with the organization,
signing users in at the deployment's own /dashboard, and not changeable through the API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.support.login import CHALLENGE, PASSWORD, VERIFIER, LoginWorld, form_cookie, hidden_fields
from umapi.clients.dashboard import dashboard_client_id

ISSUER = "http://127.0.0.1:3000"  # the in-process API's root
DASHBOARD = f"{ISSUER}/dashboard"


def authorize(world: LoginWorld, redirect_uri: str = DASHBOARD) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": dashboard_client_id(world.tenant.org_id),
        "redirect_uri": redirect_uri,
        "state": "dash",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "scope": "users:read clients:read",
    }


def test_every_new_organization_has_its_dashboard_client(world: LoginWorld) -> None:
    client_id = dashboard_client_id(world.tenant.org_id)
    assert client_id == "cli_" + world.tenant.org_id.removeprefix("org_")
    listed = world.api.get("/clients", token=world.tenant.access, query={"limit": "100"}).json()["data"]
    [dashboard] = [c for c in listed if c["dashboard"]]
    assert dashboard["id"] == client_id
    assert dashboard["public"] is True
    assert dashboard["grant_types"] == ["authorization_code", "refresh_token"]
    assert "platform:admin" not in dashboard["scopes"]
    log = world.api.get("/audit-log", token=world.tenant.access, query={"target_id": client_id}).json()["data"]
    assert [e["action"] for e in log] == ["client.created"]


def test_the_dashboard_client_cannot_be_changed_rotated_or_deleted(world: LoginWorld) -> None:
    path = f"/clients/{dashboard_client_id(world.tenant.org_id)}"
    for answer in (
        world.api.patch(path, token=world.tenant.access, json_body={"redirect_uris": ["https://evil.example/cb"]}),
        world.api.post(f"{path}/rotate-secret", token=world.tenant.access),
        world.api.delete(path, token=world.tenant.access),
    ):
        assert answer.status == 409, answer.body
    assert world.api.get(path, token=world.tenant.access).status == 200


def test_a_user_signs_in_to_the_dashboard_at_the_deployments_own_address(world: LoginWorld) -> None:
    page = world.api.get("/oauth/authorize", query=authorize(world))
    assert page.status == 200, page.body
    form = hidden_fields(page.body) | {"email": world.user["email"], "password": PASSWORD}
    done = world.api.post("/oauth/authorize", form=form, headers={"Cookie": form_cookie(page)})
    assert done.status == 302, done.body
    location = done.header("Location") or ""
    assert location.startswith(DASHBOARD + "?")
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = world.api.post(
        "/auth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DASHBOARD,
            "client_id": dashboard_client_id(world.tenant.org_id),
            "code_verifier": VERIFIER,
        },
    )
    assert tokens.status == 200, tokens.body
    assert world.api.get("/users/me", token=tokens.json()["access_token"]).json()["id"] == world.user["id"]
    # Signing out goes back to the dashboard.
    out = world.api.get(
        "/oauth/logout",
        query={"client_id": dashboard_client_id(world.tenant.org_id), "post_logout_redirect_uri": DASHBOARD},
    )
    assert out.status == 200, out.body


def test_no_other_address_is_the_dashboards(world: LoginWorld) -> None:
    for elsewhere in (
        "https://evil.example/dashboard",
        f"{ISSUER}/dashboard/other",
        f"{ISSUER}/dashboard/",
        f"{ISSUER}/",
    ):
        page = world.api.get("/oauth/authorize", query=authorize(world, elsewhere))
        assert page.status == 400
        assert "does not exactly match" in page.body
