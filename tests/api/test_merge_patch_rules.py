"""Merge-patch fields that may be left out but not cleared: an explicit null is a 400 naming the
field (null_not_allowed), the OpenAPI document says the field is not nullable, and nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.users import Tenant

ROOT = Path(__file__).resolve().parents[2]


def test_a_null_for_a_required_field_is_refused_and_changes_nothing(acme: Tenant) -> None:
    user = acme.user("n@example.com", "Nora")
    role = acme.api.post("/roles", token=acme.access, json_body={"name": "ops", "permissions": ["users:read"]}).json()
    client = acme.api.post("/clients", token=acme.access, json_body={"name": "svc"}).json()
    webhook = acme.api.post(
        "/webhooks", token=acme.access, json_body={"url": "https://hooks.example.com/x", "events": ["user.created"]}
    ).json()
    cases = [
        (f"/users/{user['id']}", ("name", "email")),
        (f"/roles/{role['id']}", ("name", "permissions")),
        (f"/clients/{client['id']}", ("name", "grant_types", "scopes", "redirect_uris")),
        (f"/webhooks/{webhook['id']}", ("url", "events", "active")),
    ]
    for path, fields in cases:
        before = acme.api.get(path, token=acme.access).json()
        for field in fields:
            refused = acme.api.patch(path, token=acme.access, json_body={field: None})
            assert refused.status == 400, (path, field, refused.body)
            [detail] = refused.json()["error"]["details"]
            assert (detail["field"], detail["code"]) == (field, "null_not_allowed"), (path, detail)
        assert acme.api.get(path, token=acme.access).json() == before, path


def test_the_document_says_they_are_not_nullable() -> None:
    schemas = json.loads((ROOT / "openapi.json").read_text())["components"]["schemas"]
    for model, fields in {
        "UpdateUserRequest": ("name", "email"),
        "UpdateRoleRequest": ("name", "permissions"),
        "UpdateClientRequest": ("name", "grant_types", "scopes", "redirect_uris"),
        "UpdateWebhookRequest": ("url", "events", "active"),
    }.items():
        for field in fields:
            assert "null" not in json.dumps(schemas[model]["properties"][field]), (model, field)
        assert "null" in json.dumps(schemas[model]["properties"]), model  # others may be cleared


def test_a_client_patch_is_checked_alone_and_against_the_stored_client(acme: Tenant) -> None:
    public = acme.api.post(
        "/clients",
        token=acme.access,
        json_body={
            "name": "spa",
            "public": True,
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example.com/cb"],
        },
    ).json()
    path = f"/clients/{public['id']}"
    # Broken by itself: the document says so (if/then), the model refuses it.
    alone = acme.api.patch(
        path, token=acme.access, json_body={"redirect_uris": [], "grant_types": ["authorization_code"]}
    )
    assert alone.status == 400
    assert alone.json()["error"]["details"][0]["code"] == "value_error"
    # Broken only with what the client is (public): its own code.
    stored = acme.api.patch(path, token=acme.access, json_body={"grant_types": ["client_credentials"]})
    assert stored.status == 400
    assert [d["code"] for d in stored.json()["error"]["details"]] == ["conflicts_with_client"]
    assert acme.api.get(path, token=acme.access).json()["grant_types"] == ["authorization_code"]
