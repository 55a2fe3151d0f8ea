"""Hostile input at the edge: JSON that would crash a parser, an exception anywhere, repeated token
parameters. (The adversarial review's findings, each tried again as an attacker would; every
test failed before its fix.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.login import (
    LoginWorld,
)
from tests.support.users import Tenant
from umapi.access.permissions import PERMISSIONS

ALL = list(PERMISSIONS)


# ============================================================== 6. hostile JSON at the edge
@pytest.mark.parametrize(
    "body",
    [
        "[" * 50_000,
        '{"email": ' + "[" * 5_000 + "]" * 5_000 + "}",
        '{"name": ' + "9" * 5_000 + "}",
        '{"name": "' + "\\" * 3 + '"}',
    ],
    ids=["deep-array", "deep-value", "huge-integer", "bad-escape"],
)
def test_hostile_json_is_a_validation_error_not_a_crash(acme: Tenant, body: str) -> None:
    for path in ("/users", "/clients", "/roles", "/webhooks"):
        response = acme.api.post(path, token=acme.access, raw_body=body, headers={"Content-Type": "application/json"})
        assert response.status == 400, (path, response.body[:200])
        assert response.error["code"] == "validation_error"
        assert response.header("X-Request-Id") == response.error["request_id"]
    token_request = acme.api.post("/auth/token", raw_body=body, headers={"Content-Type": "application/json"})
    assert token_request.status == 400
    assert token_request.json()["error"] == "invalid_request"


def test_an_unexpected_exception_anywhere_is_the_500_envelope(acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    from umapi import http

    def explode(*_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(http, "check_body", explode)  # the body guard, before authentication
    response = acme.api.get("/users", token=acme.access)
    assert response.status == 500
    assert response.error["code"] == "internal_error"
    assert response.header("X-Request-Id") == response.error["request_id"]
    assert "boom" not in response.body


# ============================================================== 17. duplicate JSON parameters
def test_token_requests_in_json_refuse_repeated_parameters(world: LoginWorld) -> None:
    body = '{"grant_type": "client_credentials", "grant_type": "refresh_token"}'
    response = world.api.post("/auth/token", raw_body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert response.json()["error"] == "invalid_request"
