"""Token function: the token and revocation endpoints, the published keys and the server
metadata (RFC 6749, 7009, 7517, 8414): the hot path of every machine client, so it loads only
what tokens need. The browser's sign-in pages are the sign-in function's."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.access.permissions import SCOPES
from umapi.auth.models import TOKEN_ANSWER
from umapi.auth.oauth import SUPPORTED_GRANTS
from umapi.auth.parameters import REVOKE_PARAMETERS, TOKEN_PARAMETERS, parse_parameters
from umapi.http import create_app, header, issuer_for, request_meta
from umapi.observability import logger, metrics, tracer
from umapi.routing import PublicKeys, Tokens

FORM = "application/x-www-form-urlencoded"
app = create_app(accepted_media_types=(FORM, "application/json"), oauth_paths=("/auth/token", "/auth/revoke"))
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@app.post("/auth/token", responses={200: TOKEN_ANSWER})
@tracer.capture_method
def post_token(tokens: Tokens) -> Response[dict[str, Any]]:
    event = app.current_event.raw_event
    media_type = header(event, "content-type").split(";", 1)[0].strip().lower()
    params = parse_parameters(app.current_event.decoded_body, media_type, TOKEN_PARAMETERS)
    meta = request_meta(event, app.context["request_id"])
    answer = tokens.token(
        params, header(event, "authorization") or None, issuer_for(event), app.context["response_headers"], meta
    )
    metrics.add_metric(name="TokensIssued", unit="Count", value=1)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=answer, headers=NO_STORE)


@app.post("/auth/revoke")
@tracer.capture_method
def post_revoke(tokens: Tokens) -> Response[None]:
    """RFC 7009: 200 whether or not the token was known."""
    event = app.current_event.raw_event
    media_type = header(event, "content-type").split(";", 1)[0].strip().lower()
    params = parse_parameters(app.current_event.decoded_body, media_type, REVOKE_PARAMETERS)
    tokens.revoke(params, header(event, "authorization") or None)
    return Response(status_code=200, body=None, headers=NO_STORE)


@app.get("/.well-known/jwks.json")
@tracer.capture_method
def get_jwks(keys: PublicKeys) -> Response[dict[str, Any]]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body={"keys": keys.jwks()},
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
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "revocation_endpoint": f"{issuer}/auth/revoke",
        "grant_types_supported": list(SUPPORTED_GRANTS),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
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


startup.finished()
