"""System function: ``GET /health`` and ``GET /openapi.json``."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.apidocs import served_document
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
