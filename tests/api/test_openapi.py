"""The OpenAPI document: generated from the code, current, complete, and served."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devserver.template import Template
from tests.support.api import InProcessApi

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("openapi_script", ROOT / "scripts" / "openapi.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checked_in_document_is_what_the_code_generates(generator: ModuleType) -> None:
    assert generator.main(["--check"]) == 0, "run: .venv/bin/python scripts/openapi.py"


def test_every_route_of_the_template_is_documented(template: Template) -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    routes = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for function in template.resources_of_type("AWS::Serverless::Function").values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }
    assert documented == routes


def test_operations_carry_their_schemas_errors_and_security() -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    post_users = document["paths"]["/users"]["post"]
    assert post_users["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("CreateUserRequest")
    assert post_users["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("UserResponse")
    assert post_users["security"] == [{"bearer": []}, {"oauth2": ["users:create"]}]
    assert post_users["x-required-permissions"] == ["users:create"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"]["400"]["content"], (method, path)
            assert {"401", "404", "429", "503"} <= set(operation["responses"]), (method, path)
    assert "security" not in document["paths"]["/health"]["get"]
    assert document["paths"]["/auth/token"]["post"]["responses"]["400"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("OAuthError")


def test_the_document_is_served_with_its_own_root_as_server(api: InProcessApi) -> None:
    response = api.get("/openapi.json", headers={"Host": "api.example.com", "X-Forwarded-Proto": "https"})
    assert response.status == 200
    served, generated = response.json(), json.loads((ROOT / "openapi.json").read_text())
    root = served["servers"][0]["url"]
    assert served["servers"] == [{"url": root, "description": "this API"}]
    assert root.startswith(("http://", "https://"))
    flows = served["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == f"{root}/auth/token"
    assert flows["authorizationCode"]["authorizationUrl"] == f"{root}/oauth/authorize"
    assert set(flows["clientCredentials"]["scopes"]) >= {"users:read", "platform:admin"}
    assert served["paths"] == generated["paths"]
    assert served["components"]["schemas"] == generated["components"]["schemas"]


# The standards' own documents: their shapes are the standards', not ours.
STANDARD_DOCUMENTS = {
    "/.well-known/jwks.json",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/openapi.json",
}


def untyped_objects(schema: Any, schemas: dict[str, Any], where: str, seen: frozenset[str] = frozenset()) -> list[str]:
    """Where ``schema`` holds an object with no properties and no typed values: what a generated
    client can only call ``dict[str, Any]``."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else untyped_objects(schemas[name], schemas, f"{where}>{name}", seen | {name})
    found = []
    values = schema.get("additionalProperties")
    if schema.get("type") == "object" and not schema.get("properties") and values in (None, True, {}):
        found.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            found += untyped_objects(branch, schemas, where, seen)
    for name, sub in (schema.get("properties") or {}).items():
        found += untyped_objects(sub, schemas, f"{where}.{name}", seen)
    for sub in (schema.get("items"), values):
        found += untyped_objects(sub, schemas, f"{where}[]", seen)
    return found


def test_no_response_schema_holds_an_untyped_object() -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    schemas = document["components"]["schemas"]
    found = [
        spot
        for path, operations in document["paths"].items()
        if path not in STANDARD_DOCUMENTS
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        for media in (response.get("content") or {}).values()
        for spot in untyped_objects(media.get("schema"), schemas, f"{method.upper()} {path} {status}")
    ]
    assert found == []
    job_error = schemas["JobRowError"]["properties"]["error"]["$ref"].rsplit("/", 1)[-1]
    assert {"code", "message", "details"} <= set(schemas[job_error]["properties"])
