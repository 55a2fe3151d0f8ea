"""The HTTP edge every function shares: body guards, error envelope, request ids.

A small resolver built with ``create_app`` stands in for a function here, so the layer's
behaviour is pinned down once, independent of any one route.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field

from tests.support.api import InProcessApi
from tests.support.events import api_event, header, json_body
from tests.support.users import Tenant
from umapi import errors
from umapi.errors import ServiceUnavailableError
from umapi.http import ApiApp, create_app


class CreateThingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=10)
    size: int = Field(ge=1)


def build_app() -> ApiApp:
    app = create_app()

    @app.post("/things")
    def create_thing(request: Annotated[CreateThingRequest, Body()]) -> dict[str, Any]:
        return {"name": request.name, "size": request.size}

    @app.get("/fail/<kind>")
    def fail(kind: str) -> dict[str, Any]:
        if kind == "conflict":
            raise errors.ConflictError("Email taken.", context={"conflicting_field": "email"})
        if kind == "throttled":
            raise errors.ServiceUnavailableError("DynamoDB is throttling.", retry_after=2)
        if kind == "rate":
            raise errors.RateLimitedError("Too many requests.", retry_after=17)
        raise RuntimeError("secret internals /var/task/handler.py")

    return app


@pytest.fixture
def app() -> ApiApp:
    return build_app()


def call(app: ApiApp, event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = app.resolve(event, context)
    return response["statusCode"], json_body(response), response


def assert_envelope(response: dict[str, Any], body: dict[str, Any], code: str) -> dict[str, Any]:
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    assert error["request_id"] == header(response, "X-Request-Id")
    assert error["request_id"].startswith("req_")
    return dict(error)


def test_valid_json_body_reaches_the_route(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(app, api_event("POST", "/things", body={"name": "a", "size": 2}), lambda_context)
    assert status == 200
    assert body == {"name": "a", "size": 2}
    assert header(
        response,
        "X-Request-Id",
    ).startswith("req_")  # type: ignore[union-attr]


def test_malformed_json_is_400(app: ApiApp, lambda_context: Any) -> None:
    event = api_event("POST", "/things", raw_body='{"name": "a",', headers={"Content-Type": "application/json"})
    status, body, response = call(app, event, lambda_context)
    assert status == 400
    error = assert_envelope(response, body, "validation_error")
    assert error["details"][0]["field"] == "body"
    assert error["details"][0]["code"] == "json_invalid"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_is_415(app: ApiApp, lambda_context: Any, content_type: str) -> None:
    event = api_event("POST", "/things", raw_body="name=a&size=2", headers={"Content-Type": content_type})
    status, body, response = call(app, event, lambda_context)
    assert status == 415
    assert_envelope(response, body, "unsupported_media_type")


def test_missing_content_type_is_415(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(app, api_event("POST", "/things", raw_body='{"name": "a"}'), lambda_context)
    assert status == 415
    assert_envelope(response, body, "unsupported_media_type")


def test_json_with_charset_is_accepted(app: ApiApp, lambda_context: Any) -> None:
    event = api_event(
        "POST",
        "/things",
        raw_body='{"name": "a", "size": 1}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    status, _, _ = call(app, event, lambda_context)
    assert status == 200


def test_body_over_one_mib_is_413(app: ApiApp, lambda_context: Any) -> None:
    oversize = json.dumps({"name": "a" * (1024 * 1024), "size": 1})
    event = api_event("POST", "/things", raw_body=oversize, headers={"Content-Type": "application/json"})
    status, body, response = call(app, event, lambda_context)
    assert status == 413
    assert_envelope(response, body, "payload_too_large")


def test_body_of_exactly_one_mib_is_not_413(app: ApiApp, lambda_context: Any) -> None:
    padding = 1024 * 1024 - len(json.dumps({"name": "", "size": 1}))
    exact = json.dumps({"name": " " * padding, "size": 1})
    assert len(exact) == 1024 * 1024
    event = api_event("POST", "/things", raw_body=exact, headers={"Content-Type": "application/json"})
    status, _, _ = call(app, event, lambda_context)
    assert status == 400  # too long a name, but not too large a body


def test_base64_body_is_decoded_before_checks(app: ApiApp, lambda_context: Any) -> None:
    event = api_event(
        "POST", "/things", raw_body=b'{"name": "b", "size": 3}', headers={"Content-Type": "application/json"}
    )
    status, body, _ = call(app, event, lambda_context)
    assert status == 200
    assert body["name"] == "b"


def test_schema_violations_list_every_field(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(
        app, api_event("POST", "/things", body={"name": "", "size": 0, "extra": True}), lambda_context
    )
    assert status == 400
    error = assert_envelope(response, body, "validation_error")
    fields = {detail["field"] for detail in error["details"]}
    assert {"name", "size", "extra"} <= fields
    assert all(detail["message"] and detail["code"] for detail in error["details"])


def test_empty_body_on_a_body_route_is_400(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(app, api_event("POST", "/things"), lambda_context)
    assert status == 400
    assert_envelope(response, body, "validation_error")


def test_domain_errors_carry_their_context(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(app, api_event("GET", "/fail/conflict"), lambda_context)
    assert status == 409
    assert assert_envelope(response, body, "conflict")["conflicting_field"] == "email"


def test_rate_limited_has_retry_after(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(app, api_event("GET", "/fail/rate"), lambda_context)
    assert status == 429
    assert header(response, "Retry-After") == "17"
    assert assert_envelope(response, body, "rate_limited")["retry_after"] == 17


def test_throttling_is_503_with_retry_after(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(app, api_event("GET", "/fail/throttled"), lambda_context)
    assert status == 503
    assert header(response, "Retry-After") == "2"
    assert_envelope(response, body, "service_unavailable")


def test_unexpected_errors_are_500_without_internals(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(app, api_event("GET", "/fail/boom"), lambda_context)
    assert status == 500
    assert_envelope(response, body, "internal_error")
    assert "secret" not in response["body"]
    assert "Traceback" not in response["body"]


def test_unknown_route_is_404_envelope(app: ApiApp, lambda_context: Any) -> None:
    status, body, response = call(app, api_event("GET", "/nope"), lambda_context)
    assert status == 404
    assert_envelope(response, body, "not_found")


def test_every_request_gets_its_own_request_id(app: ApiApp, lambda_context: Any) -> None:
    first = app.resolve(api_event("GET", "/nope"), lambda_context)
    second = app.resolve(api_event("GET", "/nope"), lambda_context)
    assert header(first, "X-Request-Id") != header(second, "X-Request-Id")


def test_routes_take_their_services_as_dependencies_tests_can_override(api: InProcessApi, acme: Tenant) -> None:
    """A route names its service in its signature (``users: Users``), so a test swaps it."""
    from functions.users.handler import app
    from umapi import services

    class Unavailable:
        def list_page(self, *_: Any) -> Any:
            raise ServiceUnavailableError("swapped in by the test", retry_after=2)

        def parse_views(self, *_: Any) -> Any:
            return set(), None

    app.dependency_overrides[services.user_service] = Unavailable
    try:
        swapped = api.get("/users", token=acme.access)
    finally:
        app.dependency_overrides.clear()
    assert swapped.status == 503
    assert swapped.error["message"] == "swapped in by the test"
    assert api.get("/users", token=acme.access).status == 200
