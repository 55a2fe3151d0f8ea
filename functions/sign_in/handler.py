"""Sign-in function: the browser's side of the authorization code flow (RFC 6749 §4.1, PKCE):
the sign-in page of ``/oauth/authorize`` and the form it posts. Pages for people live here,
apart from the token endpoint machines call, so neither loads what the other needs."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.auth.login import AuthorizeError, AuthorizeRequest, LoginRefusedError, LoginService, RedirectError
from umapi.auth.pages import error_page
from umapi.auth.parameters import parse_parameters
from umapi.auth.web import AUTHORIZE_PARAMS, SIGN_IN_PARAMS, error_redirect, form_cookie, html, redirect, sign_in_form
from umapi.errors import OAuthError
from umapi.http import create_app, request_meta
from umapi.observability import logger, metrics, tracer
from umapi.routing import Login

FORM = "application/x-www-form-urlencoded"
app = create_app(accepted_media_types=(FORM,))


def authorize_request(login: LoginService, params: dict[str, str]) -> AuthorizeRequest | Response[str]:
    """The authorization request ``params`` make, or the page that refuses it: an unknown client
    or redirect URI is an error page here (never a redirect to an unverified address); any other
    problem goes back to the client's redirect URI with ``error=``."""
    try:
        return login.validate(params)
    except AuthorizeError as problem:
        return html(400, error_page(str(problem)))
    except RedirectError as problem:
        return error_redirect(params, problem)


@app.get("/oauth/authorize")
@tracer.capture_method
def get_authorize(login: Login) -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    params = {name: query[name] for name in AUTHORIZE_PARAMS if name in query}
    request = authorize_request(login, params)
    if isinstance(request, Response):
        return request
    return sign_in_form(app.current_event.raw_event, login, request.client, params)


@app.post(
    "/oauth/authorize", status_code=302, response_description="Signed in: redirect to redirect_uri with code and state"
)
@tracer.capture_method
def post_authorize(login: Login) -> Response[str]:
    event = app.current_event.raw_event
    try:
        form = parse_parameters(app.current_event.decoded_body, FORM, SIGN_IN_PARAMS)
    except OAuthError as problem:
        return html(400, error_page(problem.description))
    params = {name: form[name] for name in AUTHORIZE_PARAMS if name in form}
    request = authorize_request(login, params)
    if isinstance(request, Response):
        return request
    client = request.client
    email = form.get("email", "")
    if not login.form_is_bound(client.id, form_cookie(event), form.get("login_token")):
        # Not the form this browser was shown (a cross-site post, or an expired page): show a fresh one.
        message = "This sign-in form expired or was not opened in this browser. Please sign in again."
        return sign_in_form(event, login, client, params, 403, error=message, email=email)
    try:
        location = login.login(request, email, form.get("password", ""), request_meta(event, app.context["request_id"]))
    except LoginRefusedError as failure:
        return sign_in_form(event, login, client, params, failure.status, error=failure.message, email=email)
    return redirect(location)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
