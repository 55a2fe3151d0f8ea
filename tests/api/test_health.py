"""GET /health through the system function's handler, on moto."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest

from functions.system.handler import lambda_handler
from tests.support.events import api_event, header, json_body, sample_event


def test_health_is_healthy_when_dynamodb_answers(aws: Any, lambda_context: Any) -> None:
    # Given the table exists
    # When the health check is called with the sample event
    response = lambda_handler(sample_event("system/get_health.json"), lambda_context)

    # Then it is healthy, not cached, and carries a request id
    assert response["statusCode"] == 200
    body = json_body(response)
    assert body["status"] == "healthy"
    assert body["checks"]["dynamodb"]["status"] == "ok"
    assert header(response, "Cache-Control") == "no-store"
    assert re.fullmatch(r"req_[0-9A-HJKMNP-TV-Z]{26}", header(response, "X-Request-Id") or "")


def test_health_is_503_when_dynamodb_is_unreachable(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> None:
    # Given DynamoDB's endpoint refuses connections
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")

    # When the health check is called
    response = lambda_handler(api_event("GET", "/health"), lambda_context)

    # Then it answers 503, says which check failed, and shows nothing internal
    assert response["statusCode"] == 503
    body = json_body(response)
    assert body == {
        "status": "unhealthy",
        "checks": {"dynamodb": {"status": "unreachable", "latency_ms": body["checks"]["dynamodb"]["latency_ms"]}},
    }
    assert header(response, "Retry-After") == "5"
    assert "127.0.0.1" not in response["body"]


def test_health_rejects_other_methods_with_the_envelope(aws: Any, lambda_context: Any) -> None:
    # When an unknown route reaches the function
    response = lambda_handler(api_event("GET", "/health/deep"), lambda_context)

    # Then the API's 404 envelope comes back
    assert response["statusCode"] == 404
    error = json_body(response)["error"]
    assert error["code"] == "not_found"
    assert error["request_id"] == header(response, "X-Request-Id")
