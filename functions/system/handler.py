"""System function: ``GET /health`` and ``GET /openapi.json``."""

import json
from functools import cache
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.aws import dynamodb_client
from umapi.health import HealthResponse, HealthService
from umapi.http import create_app
from umapi.observability import logger, metrics, tracer
from umapi.settings import get_settings

app = create_app()


@app.get("/health")
@tracer.capture_method
def get_health() -> Response[HealthResponse]:
    report = HealthService(dynamodb_client(), get_settings().table_name).check()
    healthy = report.status == "healthy"
    return Response(
        status_code=200 if healthy else 503,
        content_type=content_types.APPLICATION_JSON,
        body=report,
        headers={"Cache-Control": "no-store"} | ({} if healthy else {"Retry-After": "5"}),
    )


@cache
def openapi_document() -> dict[str, Any]:
    """The whole API's OpenAPI document, generated from the code by scripts/openapi.py."""
    return dict(json.loads((resources.files("umapi") / "openapi.json").read_text()))


@app.get("/openapi.json")
@tracer.capture_method
def get_openapi() -> Response[dict[str, Any]]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=openapi_document(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
