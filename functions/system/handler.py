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
from umapi.http import create_app, public_base_url
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
    """The document, with this API's own root as its server and the OAuth endpoints on it, so a
    generated client or Swagger UI talks to the API that served it (locally or deployed)."""
    root = public_base_url(app.current_event.raw_event)
    document = served_document(root)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=document,
        headers={"Cache-Control": "public, max-age=300"},
    )


def served_document(root: str) -> dict[str, Any]:
    document = openapi_document()
    oauth2 = document["components"]["securitySchemes"]["oauth2"]
    flows = {
        name: {
            **flow,
            **({"tokenUrl": f"{root}/auth/token"} if "tokenUrl" in flow else {}),
            **({"authorizationUrl": f"{root}/oauth/authorize"} if "authorizationUrl" in flow else {}),
        }
        for name, flow in oauth2["flows"].items()
    }
    schemes = {**document["components"]["securitySchemes"], "oauth2": {**oauth2, "flows": flows}}
    return {
        **document,
        "servers": [{"url": root, "description": "this API"}],
        "components": {**document["components"], "securitySchemes": schemes},
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
