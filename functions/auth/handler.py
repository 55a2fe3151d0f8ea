"""Auth function: the token endpoint and the published key and server metadata (RFC 6749, 7517, 8414)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.auth.oauth import SUPPORTED_GRANTS, parse_parameters
from umapi.auth.permissions import SCOPES
from umapi.dependencies import public_keys, token_service
from umapi.http import create_app, header, issuer_for
from umapi.observability import logger, metrics, tracer

FORM = "application/x-www-form-urlencoded"
app = create_app(accepted_media_types=(FORM, "application/json"), oauth_paths=("/auth/token",))
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@app.post("/auth/token")
@tracer.capture_method
def post_token() -> Response[dict[str, Any]]:
    event = app.current_event.raw_event
    media_type = header(event, "content-type").split(";", 1)[0].strip().lower()
    params = parse_parameters(app.current_event.decoded_body, media_type)
    answer = token_service().token(
        params, header(event, "authorization") or None, issuer_for(event), app.context["response_headers"]
    )
    metrics.add_metric(name="TokensIssued", unit="Count", value=1)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=answer, headers=NO_STORE)


@app.get("/.well-known/jwks.json")
@tracer.capture_method
def get_jwks() -> Response[dict[str, Any]]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body={"keys": public_keys().jwks()},
        headers={"Cache-Control": "public, max-age=300"},
    )


@app.get("/.well-known/oauth-authorization-server")
@tracer.capture_method
def get_server_metadata() -> Response[dict[str, Any]]:
    issuer = issuer_for(app.current_event.raw_event)
    metadata = {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/auth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": list(SUPPORTED_GRANTS),
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(SCOPES),
        "service_documentation": f"{issuer}/docs",
    }
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=metadata,
        headers={"Cache-Control": "public, max-age=300"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
