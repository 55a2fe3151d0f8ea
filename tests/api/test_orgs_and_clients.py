"""Organizations and API clients through the orgs function: CRUD, secrets, tenancy, escalation."""

from __future__ import annotations

import pytest

from tests.support.api import InProcessApi
from tests.support.flows import ClientCredentials, admin_token, new_client, new_org, token
from umapi.access.permissions import PERMISSIONS
from umapi.bootstrap import AdminCredentials
from umapi.clients.dashboard import dashboard_client_id

ALL = list(PERMISSIONS)


@pytest.fixture
def admin(api: InProcessApi, platform: AdminCredentials) -> str:
    return admin_token(api, platform)


@pytest.fixture
def org_a(api: InProcessApi, admin: str) -> str:
    return new_org(api, admin, "A")


@pytest.fixture
def org_b(api: InProcessApi, admin: str) -> str:
    return new_org(api, admin, "B")


@pytest.fixture
def manager_a(api: InProcessApi, admin: str, org_a: str) -> ClientCredentials:
    """A client of org A that manages org A's clients."""
    return new_client(api, admin, org_a, ["clients:read", "clients:write", "users:read"])


# --------------------------------------------------------------------------- organizations
def test_platform_admin_creates_lists_and_reads_organizations(api: InProcessApi, admin: str) -> None:
    created = api.post("/orgs", token=admin, json_body={"name": "  Globex  "})
    assert created.status == 201
    org = created.json()
    assert org["name"] == "Globex"
    assert org["id"].startswith("org_")
    assert created.header("Location").endswith(f"/orgs/{org['id']}")  # type: ignore[union-attr]
    assert org["created_at"].endswith("Z")

    listed = api.get("/orgs", token=admin).json()
    assert org["id"] in [item["id"] for item in listed["data"]]
    assert api.get(f"/orgs/{org['id']}", token=admin).json() == org


def test_only_platform_admins_create_or_list_organizations(api: InProcessApi, manager_a: ClientCredentials) -> None:
    access = token(api, manager_a.client_id, manager_a.client_secret)
    for response in (api.post("/orgs", token=access, json_body={"name": "X"}), api.get("/orgs", token=access)):
        assert response.status == 403
        assert response.error["code"] == "forbidden"
        assert response.error["required_permission"] == "platform:admin"


def test_members_read_their_own_organization_only(
    api: InProcessApi, manager_a: ClientCredentials, org_a: str, org_b: str
) -> None:
    access = token(api, manager_a.client_id, manager_a.client_secret)
    assert api.get(f"/orgs/{org_a}", token=access).status == 200
    other = api.get(f"/orgs/{org_b}", token=access)
    assert other.status == 404
    assert other.error["code"] == "not_found"


def test_organization_name_is_validated(api: InProcessApi, admin: str) -> None:
    for body in ({}, {"name": ""}, {"name": "x" * 101}, {"name": "ok", "id": "org_mine"}):
        response = api.post("/orgs", token=admin, json_body=body)
        assert response.status == 400, body
        assert response.error["code"] == "validation_error"
        assert response.error["details"]


# --------------------------------------------------------------------------- clients
def test_client_secret_is_shown_once_and_works(api: InProcessApi, admin: str, org_a: str) -> None:
    created = api.post(
        "/clients",
        token=admin,
        query={"org_id": org_a},
        json_body={"name": "billing", "scopes": ["users:read"], "grant_types": ["client_credentials"]},
    )
    assert created.status == 201
    body = created.json()
    assert body["id"].startswith("cli_")
    assert body["org_id"] == org_a
    assert len(body["client_secret"]) >= 43
    assert created.header("Location").endswith(f"/clients/{body['id']}")  # type: ignore[union-attr]
    assert created.header("Cache-Control") == "no-store"

    fetched = api.get(f"/clients/{body['id']}", token=admin, query={"org_id": org_a}).json()
    assert "client_secret" not in fetched
    assert "secret_hash" not in fetched
    assert token(api, body["id"], body["client_secret"])


def test_rotating_a_secret_retires_the_old_one(api: InProcessApi, admin: str, org_a: str) -> None:
    client = new_client(api, admin, org_a, ["users:read"])
    rotated = api.post(f"/clients/{client.client_id}/rotate-secret", token=admin, query={"org_id": org_a})
    assert rotated.status == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != client.client_secret
    old = api.post(
        "/auth/token", form={"grant_type": "client_credentials"}, basic=(client.client_id, client.client_secret)
    )
    assert old.status == 401
    assert token(api, client.client_id, new_secret)


def test_deleting_a_client_revokes_its_tokens_at_once(api: InProcessApi, admin: str, org_a: str) -> None:
    client = new_client(api, admin, org_a, ["clients:read", "clients:write"])
    access = token(api, client.client_id, client.client_secret)
    assert api.get("/clients", token=access).status == 200

    assert api.delete(f"/clients/{client.client_id}", token=admin, query={"org_id": org_a}).status == 204

    revoked = api.get("/clients", token=access)
    assert revoked.status == 401
    assert 'error="invalid_token"' in revoked.header("WWW-Authenticate")  # type: ignore[operator]
    assert api.get(f"/clients/{client.client_id}", token=admin, query={"org_id": org_a}).status == 404


def test_a_client_cannot_delete_itself(api: InProcessApi, admin: str, org_a: str) -> None:
    client = new_client(api, admin, org_a, ["clients:read", "clients:write"])
    access = token(api, client.client_id, client.client_secret)
    refused = api.delete(f"/clients/{client.client_id}", token=access)
    assert refused.status == 409
    assert "another client" in refused.error["message"]
    assert api.get("/clients", token=access).status == 200


def test_patch_merges_and_validates(api: InProcessApi, admin: str, org_a: str) -> None:
    client = new_client(api, admin, org_a, ["users:read"])
    path = f"/clients/{client.client_id}"
    patched = api.patch(path, token=admin, query={"org_id": org_a}, json_body={"name": "renamed", "scopes": ALL})
    assert patched.status == 200
    assert patched.json()["name"] == "renamed"
    assert patched.json()["scopes"] == ALL
    assert patched.json()["grant_types"] == ["client_credentials"]  # omitted: unchanged

    limited = api.patch(path, token=admin, query={"org_id": org_a}, json_body={"rate_limit_per_minute": 42})
    assert limited.json()["rate_limit_per_minute"] == 42
    cleared = api.patch(path, token=admin, query={"org_id": org_a}, json_body={"rate_limit_per_minute": None})
    assert cleared.json()["rate_limit_per_minute"] is None

    bad_patches: list[dict[str, object]] = [
        {"name": None},
        {"secret_hash": "x"},
        {"scopes": ["nope"]},
        {"grant_types": []},
    ]
    for bad in bad_patches:
        response = api.patch(path, token=admin, query={"org_id": org_a}, json_body=bad)
        assert response.status == 400, bad
        assert response.error["details"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "public": True, "grant_types": ["client_credentials"]},
        {"name": "x", "grant_types": ["authorization_code"]},
        {"name": "x", "grant_types": ["authorization_code"], "redirect_uris": ["http://app.example/cb"]},
        {"name": "x", "grant_types": ["authorization_code"], "redirect_uris": ["https://app.example/cb#frag"]},
        {"name": "x", "grant_types": ["implicit"]},
        {"name": "x", "scopes": ["users:read", "users:read"]},
        {"name": "x", "client_secret": "mine"},
        {"name": ""},
    ],
)
def test_invalid_clients_are_refused(api: InProcessApi, admin: str, org_a: str, body: dict[str, object]) -> None:
    response = api.post("/clients", token=admin, query={"org_id": org_a}, json_body=body)
    assert response.status == 400
    assert response.error["code"] == "validation_error"


def test_loopback_redirects_are_allowed_for_native_apps(api: InProcessApi, admin: str, org_a: str) -> None:
    body = {
        "name": "cli",
        "public": True,
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": ["http://127.0.0.1:8765/callback", "http://localhost/cb"],
    }
    response = api.post("/clients", token=admin, query={"org_id": org_a}, json_body=body)
    assert response.status == 201
    assert response.json()["client_secret"] is None
    rotate = api.post(f"/clients/{response.json()['id']}/rotate-secret", token=admin, query={"org_id": org_a})
    assert rotate.status == 409


def test_clients_cannot_grant_more_than_they_hold(api: InProcessApi, manager_a: ClientCredentials) -> None:
    access = token(api, manager_a.client_id, manager_a.client_secret)
    escalation = api.post("/clients", token=access, json_body={"name": "x", "scopes": ["users:delete"]})
    assert escalation.status == 403
    assert escalation.error["required_permission"] == "users:delete"
    platform_scope = api.post("/clients", token=access, json_body={"name": "x", "scopes": ["platform:admin"]})
    assert platform_scope.status == 400  # only clients of the platform organization hold it
    fine = api.post("/clients", token=access, json_body={"name": "x", "scopes": ["users:read"]})
    assert fine.status == 201
    assert fine.json()["org_id"] == manager_a.org_id


def test_only_platform_admins_set_rate_limits(api: InProcessApi, manager_a: ClientCredentials) -> None:
    access = token(api, manager_a.client_id, manager_a.client_secret)
    created = api.post("/clients", token=access, json_body={"name": "x", "rate_limit_per_minute": 5000})
    assert created.status == 403
    assert created.error["required_permission"] == "platform:admin"
    patched = api.patch(f"/clients/{manager_a.client_id}", token=access, json_body={"rate_limit_per_minute": 9})
    assert patched.status == 403


def test_missing_permission_is_403_with_required_permission(api: InProcessApi, admin: str, org_a: str) -> None:
    reader = new_client(api, admin, org_a, ["clients:read"])
    access = token(api, reader.client_id, reader.client_secret)
    response = api.post("/clients", token=access, json_body={"name": "x"})
    assert response.status == 403
    assert response.error["required_permission"] == "clients:write"


def test_clients_list_pages_with_tamper_evident_cursors(api: InProcessApi, admin: str, org_a: str) -> None:
    created = {new_client(api, admin, org_a, ["users:read"]).client_id for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        query = {"org_id": org_a, "limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = api.get("/clients", token=admin, query=query).json()
        assert len(page["data"]) <= 2
        seen += [item["id"] for item in page["data"]]
        if not page["pagination"]["has_more"]:
            assert page["pagination"]["next_cursor"] is None
            break
        cursor = page["pagination"]["next_cursor"]
    # Every organization has its dashboard client besides (docs/api.md §13).
    assert sorted(seen) == sorted(created | {dashboard_client_id(org_a)})
    assert len(seen) == len(set(seen))

    first = api.get("/clients", token=admin, query={"org_id": org_a, "limit": "2"}).json()["pagination"]["next_cursor"]
    payload, _, signature = first.partition(".")
    for tampered in (first[:-2] + "xx", payload + "x." + signature, "garbage", "a.b"):
        response = api.get("/clients", token=admin, query={"org_id": org_a, "cursor": tampered})
        assert response.status == 400
        assert response.error["details"][0]["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten"])
def test_out_of_range_limits_are_400(api: InProcessApi, admin: str, limit: str) -> None:
    response = api.get("/clients", token=admin, query={"limit": limit})
    assert response.status == 400
    assert response.error["details"][0]["field"] == "limit"


# --------------------------------------------------------------------------- tenancy
def test_an_org_cannot_see_or_touch_another_orgs_clients(
    api: InProcessApi, admin: str, manager_a: ClientCredentials, org_b: str
) -> None:
    client_b = new_client(api, admin, org_b, ["users:read"])
    access_a = token(api, manager_a.client_id, manager_a.client_secret)
    path = f"/clients/{client_b.client_id}"

    for response in (
        api.get(path, token=access_a),
        api.patch(path, token=access_a, json_body={"name": "pwned"}),
        api.delete(path, token=access_a),
        api.post(f"{path}/rotate-secret", token=access_a),
    ):
        assert response.status == 404
        assert response.error["code"] == "not_found"
    assert client_b.client_id not in [c["id"] for c in api.get("/clients", token=access_a).json()["data"]]

    # B's client is untouched and still works
    assert api.get(path, token=admin, query={"org_id": org_b}).json()["name"] == "service"
    assert token(api, client_b.client_id, client_b.client_secret)


def test_only_platform_admins_act_in_another_org(
    api: InProcessApi, admin: str, manager_a: ClientCredentials, org_b: str
) -> None:
    access_a = token(api, manager_a.client_id, manager_a.client_secret)
    refused = api.get("/clients", token=access_a, query={"org_id": org_b})
    assert refused.status == 403
    assert refused.error["required_permission"] == "platform:admin"
    assert api.get("/clients", token=access_a, query={"org_id": manager_a.org_id}).status == 200

    assert api.get("/clients", token=admin, query={"org_id": org_b}).status == 200
    missing = api.get("/clients", token=admin, query={"org_id": "org_01HNOSUCHORG00000000000000"})
    assert missing.status == 404
