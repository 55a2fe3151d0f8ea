"""Token function: the token, revocation and introspection endpoints, the published keys, the
server metadata and OpenID Connect's discovery document and userinfo (RFC 6749, 7009, 7662,
7517, 8414; OIDC Core and Discovery): the hot path of every machine client, so it loads only
what tokens need. The browser's sign-in pages are the sign-in function's."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.access.principal import Principal
from umapi.auth.models import INTROSPECTION_ANSWER, TOKEN_ANSWER, USERINFO_ANSWER
from umapi.auth.oauth import SUPPORTED_GRANTS
from umapi.auth.oidc import discovery_document
from umapi.auth.parameters import INTROSPECT_PARAMETERS, REVOKE_PARAMETERS, TOKEN_PARAMETERS, parse_parameters
from umapi.dependencies import authenticate_event, requires
from umapi.http import create_app, header, issuer_for, request_meta
from umapi.observability import logger, metrics, tracer
from umapi.routing import PublicKeys, Tokens, UserInfoClaims

FORM = "application/x-www-form-urlencoded"
OAUTH_PATHS = ("/auth/token", "/auth/revoke", "/auth/introspect")
METADATA_PATHS = (
    "/.well-known/jwks.json",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
)
app = create_app(
    accepted_media_types=(FORM, "application/json"),
    oauth_paths=OAUTH_PATHS,
    authenticate=authenticate_event,  # /userinfo: the one route with a bearer token
    public=(*OAUTH_PATHS, *METADATA_PATHS),
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _parameters(known: frozenset[str]) -> dict[str, str]:
    """The ``known`` parameters of the request's form or JSON body (RFC 6749 §3.2)."""
    media_type = header(app.current_event.raw_event, "content-type").split(";", 1)[0].strip().lower()
    return parse_parameters(app.current_event.decoded_body, media_type, known)


def _json(answer: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=answer, headers=NO_STORE)


@app.post("/auth/token", responses={200: TOKEN_ANSWER})
@tracer.capture_method
def post_token(tokens: Tokens) -> Response[dict[str, Any]]:
    event = app.current_event.raw_event
    meta = request_meta(event, app.context["request_id"])
    answer = tokens.token(
        _parameters(TOKEN_PARAMETERS),
        header(event, "authorization") or None,
        issuer_for(event),
        app.context["response_headers"],
        meta,
    )
    metrics.add_metric(name="TokensIssued", unit="Count", value=1)
    return _json(answer)


@app.post("/auth/revoke")
@tracer.capture_method
def post_revoke(tokens: Tokens) -> Response[None]:
    """RFC 7009: 200 whether or not the token was known."""
    tokens.revoke(_parameters(REVOKE_PARAMETERS), header(app.current_event.raw_event, "authorization") or None)
    return Response(status_code=200, body=None, headers=NO_STORE)


@app.post("/auth/introspect", responses={200: INTROSPECTION_ANSWER})
@tracer.capture_method
def post_introspect(tokens: Tokens) -> Response[dict[str, Any]]:
    """RFC 7662: what a token of the caller's organization is, if it is active."""
    event = app.current_event.raw_event
    meta = request_meta(event, app.context["request_id"])
    answer = tokens.introspect(
        _parameters(INTROSPECT_PARAMETERS),
        header(event, "authorization") or None,
        issuer_for(event),
        app.context["response_headers"],
        meta,
    )
    return _json(answer)


@app.route("/userinfo", method=["GET", "POST"], responses={200: USERINFO_ANSWER})
@tracer.capture_method
def userinfo(caller: Annotated[Principal, Depends(requires())], info: UserInfoClaims) -> Response[dict[str, Any]]:
    """OIDC Core §5.3: the signed-in user's claims, for a token granted ``openid``."""
    return _json(info.claims(caller))


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
    """RFC 8414: the same document as OpenID Connect's discovery (one source, never two answers)."""
    return _metadata()


@app.get("/.well-known/openid-configuration")
@tracer.capture_method
def get_openid_configuration() -> Response[dict[str, Any]]:
    """OpenID Connect Discovery 1.0 §4."""
    return _metadata()


def _metadata() -> Response[dict[str, Any]]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=discovery_document(issuer_for(app.current_event.raw_event), SUPPORTED_GRANTS),
        headers={"Cache-Control": "public, max-age=300"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
