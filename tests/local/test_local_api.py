"""The product's API served by the local runtime, over HTTP, as a client sees it."""

from __future__ import annotations

import re

import pytest
import requests

from devserver.runtime import LocalRuntime

pytestmark = pytest.mark.e2e
REQUEST_ID = re.compile(r"req_[0-9A-HJKMNP-TV-Z]{26}")


def test_health_answers_200_from_moto(local_api: LocalRuntime) -> None:
    response = requests.get(f"{local_api.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
    assert response.json()["checks"]["dynamodb"]["status"] == "ok"
    assert REQUEST_ID.fullmatch(response.headers["X-Request-Id"])


def test_unknown_route_is_the_contract_404(local_api: LocalRuntime) -> None:
    response = requests.get(f"{local_api.url}/nope", timeout=10)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["details"] == []
    assert error["request_id"] == response.headers["X-Request-Id"]


def test_wrong_method_is_405_with_allow(local_api: LocalRuntime) -> None:
    response = requests.delete(f"{local_api.url}/health", timeout=10)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/users/bulk", "POST"),  # not /users/{user_id}'s methods
        ("/users/me", "GET, HEAD"),
        ("/webhooks/events", "GET, HEAD"),
        ("/users/usr_1/roles", "GET, HEAD, POST"),
    ],
)
def test_allow_lists_exactly_the_resource_methods(local_api: LocalRuntime, path: str, allowed: str) -> None:
    response = requests.options(f"{local_api.url}{path}", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed


def test_every_template_route_is_served(local_api: LocalRuntime) -> None:
    served = {(method, route.path) for route in local_api.routes for method in route.methods}
    assert ("GET", "/health") in served


def test_a_body_that_is_not_utf8_is_400_not_502(local_api: LocalRuntime) -> None:
    response = requests.post(
        f"{local_api.url}/orgs", data=b"\xff\xfe{}", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_the_openapi_document_and_swagger_ui_are_served(local_api: LocalRuntime) -> None:
    document = requests.get(f"{local_api.url}/openapi.json", timeout=30)
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "User Management API"
    docs = requests.get(f"{local_api.url}/docs", timeout=30)
    assert docs.status_code == 200
    assert docs.headers["Content-Type"].startswith("text/html")
    # Everything the page loads comes from the stack itself: offline, and no CDN script
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets
    assert all(asset.startswith("/docs/") for asset in assets), assets
    policy = docs.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "default-src 'none'" in policy
    for asset in assets:
        loaded = requests.get(f"{local_api.url}{asset}", timeout=30)
        assert loaded.status_code == 200, asset
        assert loaded.content, asset
    start = requests.get(f"{local_api.url}/docs/start.js", timeout=30).text
    assert 'url: "/openapi.json"' in start
    assert "SwaggerUIBundle" in requests.get(f"{local_api.url}/docs/swagger-ui-bundle.js", timeout=30).text
    assert requests.get(f"{local_api.url}/docs/package.json", timeout=30).status_code == 404


def test_local_only_routes_carry_a_request_id_too(local_api: LocalRuntime) -> None:
    for path in ("/docs", "/_local/emails"):
        response = requests.get(f"{local_api.url}{path}", timeout=30)
        assert response.status_code == 200
        assert re.fullmatch(r"req_[0-9A-HJKMNP-TV-Z]{26}", response.headers["X-Request-Id"]), path
