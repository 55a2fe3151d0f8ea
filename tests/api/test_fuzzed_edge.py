"""The HTTP edge under generated hostile input (hypothesis, fixed seed, bounded examples).

Bodies (JSON of any shape, deep nesting, huge numbers, bytes that are not UTF-8), headers,
query strings and path parameters are thrown at every route of template.yaml, as API Gateway
would deliver them, half of the time with a valid token. Every answer must be a well-formed
contract response: a known status below 500, ``X-Request-Id`` on it, and for errors the envelope
(``{error: {code, message, details, request_id}}`` with the same request id), RFC 6749's
``{error, error_description}`` on the OAuth endpoints, or an HTML page on the sign-in pages.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.support.api import InProcessApi
from tests.support.events import api_event
from tests.support.users import Tenant

OAUTH_PATHS = {"/auth/token", "/auth/revoke", "/auth/introspect"}
HTML_PATHS = {"/oauth/authorize", "/oauth/logout", "/oauth/callback"}
KNOWN_STATUSES = {200, 201, 202, 204, 302, 304, 400, 401, 403, 404, 405, 409, 410, 412, 413, 415, 422, 429, 503}
REQUEST_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "email",
        "name",
        "role",
        "password",
        "scopes",
        "events",
        "url",
        "permissions",
        "user_ids",
        "status",
        "metadata",
        "grant_type",
        "client_id",
        "code",
        "redirect_uri",
        "token",
        "expires_at",
        "role_id",
        "action",
        "users",
    ]
)
shaped_bodies = st.dictionaries(field_names, json_values, max_size=5).map(json.dumps)
hostile_bodies = st.sampled_from(
    ["[" * 20_000, '{"a":' * 5_000, "9" * 6_000, '{"name": 1e999999}', "\ud800", "{", "", "null", '"x"', "[]"]
)
bodies = st.one_of(shaped_bodies, json_values.map(json.dumps), hostile_bodies, st.text(max_size=60))
segments = st.one_of(
    st.sampled_from(["usr_01HNOSUCHUSER0000000000000", "role_admin", "admin", "users:read", "me", "..", "%00"]),
    st.text(alphabet=st.characters(exclude_characters="/", exclude_categories=["Cs"]), min_size=1, max_size=40),
)
query_values = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
queries = st.dictionaries(
    st.sampled_from(
        [
            "limit",
            "cursor",
            "status",
            "role",
            "search",
            "sort",
            "order",
            "include",
            "fields",
            "org_id",
            "force",
            "since",
            "until",
            "type",
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
        ]
    ),
    st.one_of(query_values, st.sampled_from(["0", "-1", "101", "true", "2026-13-45T99:00:00Z", "a" * 3000])),
    max_size=4,
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/merge-patch+json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/json; charset=utf-16",
        "",
        "multipart/form-data; boundary=x",
    ]
)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@st.composite
def requests(draw: st.DrawFn, routes: list[Any]) -> dict[str, Any]:
    route = draw(st.sampled_from(routes))
    names = re.findall(r"\{(\w+)\}", route.resource)
    parameters = {name: draw(segments) for name in names}
    path = route.resource
    for name, value in parameters.items():
        path = path.replace("{" + name + "}", value)
    headers = {"Content-Type": draw(content_types)}
    for name in draw(
        st.lists(
            st.sampled_from(
                ["If-Match", "If-None-Match", "Idempotency-Key", "Cookie", "X-Forwarded-For", "Authorization"]
            ),
            max_size=3,
        )
    ):
        headers[name] = draw(header_values)
    return {
        "route": route,
        "path": path,
        "parameters": parameters or None,
        "query": draw(queries) or None,
        "headers": headers,
        "body": draw(st.none() | bodies),
        "with_token": draw(st.booleans()),
    }


def test_every_route_answers_hostile_input_with_a_contract_response(api: InProcessApi, acme: Tenant) -> None:
    routes = api.routes

    @seed(20261201)
    @settings(
        max_examples=400,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(request=requests(routes))
    def one(request: dict[str, Any]) -> None:
        headers = dict(request["headers"])
        if request["with_token"]:
            headers["Authorization"] = f"Bearer {acme.access}"
        event = api_event(
            request["route"].method,
            request["path"],
            resource=request["route"].resource,
            path_parameters=request["parameters"],
            query=request["query"],
            headers=headers,
            raw_body=request["body"],
        )
        result = request["route"].module.lambda_handler(event, api.context)
        check_contract_response(request["route"].resource, result)

    one()


def check_contract_response(resource: str, result: dict[str, Any]) -> None:
    status = result["statusCode"]
    headers = {k.lower(): v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): v for k, v in (result.get("headers") or {}).items()})
    assert status in KNOWN_STATUSES, (resource, status, result.get("body", "")[:300])
    assert REQUEST_ID.match(headers.get("x-request-id", "")), (resource, headers)
    if status < 400:
        return
    content_type = headers.get("content-type", "")
    if resource in HTML_PATHS and content_type.startswith("text/html"):
        assert "<html" in result["body"]
        return
    body = json.loads(result["body"])
    if resource in OAUTH_PATHS and isinstance(body.get("error"), str):
        assert set(body) == {"error", "error_description"}, body
        return
    error = body["error"]
    assert {"code", "message", "details", "request_id"} <= set(error), body
    assert error["request_id"] == headers["x-request-id"]
    assert isinstance(error["details"], list)


HOSTILE_BODIES = ["[" * 20_000, '{"a":' * 5_000, "9" * 6_000, '{"name": 1e999999}', "\ud800", "{", "null", "[]"]


def test_every_route_answers_each_hostile_body_with_a_contract_response(api: InProcessApi, acme: Tenant) -> None:
    """The same check, exhaustively: every route and every hostile body, with and without a token."""
    for route in api.routes:
        parameters = {name: "usr_01HNOSUCHUSER0000000000000" for name in re.findall(r"\{(\w+)\}", route.resource)}
        path = route.resource
        for name, value in parameters.items():
            path = path.replace("{" + name + "}", value)
        for body, authorization in itertools.product(HOSTILE_BODIES, (f"Bearer {acme.access}", None)):
            headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})
            event = api_event(
                route.method,
                path,
                resource=route.resource,
                path_parameters=parameters or None,
                headers=headers,
                raw_body=body,
            )
            check_contract_response(route.resource, route.module.lambda_handler(event, api.context))
