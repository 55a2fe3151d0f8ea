"""Sign-in function: the browser's side of the authorization code flow (RFC 6749 §4.1, PKCE):
the sign-in page of ``/oauth/authorize``, the form it posts, the browser session it starts, and
OpenID Connect's end-session endpoint ``/oauth/logout``. Pages for people live here, apart from
the token endpoint machines call, so neither loads what the other needs."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.auth.browser_sessions import cookie_name
from umapi.auth.login import (
    AuthorizeError,
    AuthorizeRequest,
    LoginRefusedError,
    LoginService,
    RedirectError,
    SignedIn,
)
from umapi.auth.logout import LogoutError, LogoutService
from umapi.auth.pages import error_page, logout_page, recovery_codes_page, second_factor_page, signed_out_page
from umapi.auth.parameters import parse_parameters
from umapi.auth.second_step import SecondStepPage
from umapi.auth.web import (
    AUTHORIZE_PARAMS,
    CALLBACK_PARAMS,
    LOGOUT_PARAMS,
    SIGN_IN_PARAMS,
    error_redirect,
    expired_cookie,
    federation_cookie,
    federation_secret,
    form_cookie,
    html,
    mfa_cookie,
    mfa_secret,
    redirect,
    session_cookie,
    session_secrets,
    sign_in_form,
)
from umapi.errors import OAuthError
from umapi.http import create_app, issuer_for, request_meta
from umapi.observability import logger, metrics, tracer
from umapi.routing import Federated, Federation, Login, Logout
from umapi.sso.federation import FederationError

FORM = "application/x-www-form-urlencoded"
app = create_app(accepted_media_types=(FORM,))
PASSKEY_SCRIPT = (Path(__file__).parent / "assets" / "passkey.js").read_text()


def authorize_request(login: LoginService, params: dict[str, str]) -> AuthorizeRequest | Response[str]:
    """The authorization request ``params`` make, or the page that refuses it: an unknown client
    or redirect URI is an error page here (never a redirect to an unverified address); any other
    problem goes back to the client's redirect URI with ``error=``."""
    try:
        return login.validate(params, issuer_for(app.current_event.raw_event))
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
    event = app.current_event.raw_event
    resumed = login.resume(request, session_secrets(event).get(cookie_name(request.client.org_id)))
    if resumed is not None:  # signed in already (or prompt=none without a session: the error)
        return redirect(resumed)
    return sign_in_form(event, login, request.client, params)


@app.post(
    "/oauth/authorize", status_code=302, response_description="Signed in: redirect to redirect_uri with code and state"
)
@tracer.capture_method
def post_authorize(login: Login, federation: Federation) -> Response[str]:
    event = app.current_event.raw_event
    try:
        form = parse_parameters(app.current_event.decoded_body, FORM, SIGN_IN_PARAMS)
    except OAuthError as problem:
        return html(400, error_page(problem.description))
    if form.get("step") == "second-factor":
        return _second_factor(login, form)
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
    if "password" not in form:  # the email step: the organization's identity provider, or the password
        connection = federation.connection_for(client.org_id, email) if email else None
        if connection is None:
            return sign_in_form(event, login, client, params, email=email, password=bool(email))
        departure = federation.depart(connection, params, email, f"{issuer_for(event)}/oauth/callback")
        return redirect(departure.location, [federation_cookie(event, departure.browser_secret)])
    try:
        signed_in = login.login(
            request, email, form.get("password", ""), request_meta(event, app.context["request_id"]), issuer_for(event)
        )
    except LoginRefusedError as failure:
        return sign_in_form(
            event, login, client, params, failure.status, error=failure.message, email=email, password=True
        )
    return _signed_in(request, signed_in)


def _second_factor(login: LoginService, form: dict[str, str]) -> Response[str]:
    """The second page's answer (docs/api.md §11): the code's redirect, or the page again."""
    event = app.current_event.raw_event
    meta = request_meta(event, app.context["request_id"])
    try:
        request, outcome = login.second_factor(
            mfa_secret(event), form.get("otp", ""), form.get("credential", ""), issuer_for(event), meta
        )
    except LoginRefusedError as failure:
        return html(failure.status, error_page(failure.message), cookies=[mfa_cookie(event, None)])
    except AuthorizeError as problem:  # the client or its redirect URI went away meanwhile
        return html(400, error_page(str(problem)), cookies=[mfa_cookie(event, None)])
    return _signed_in(request, outcome)


def _signed_in(request: AuthorizeRequest, outcome: SignedIn | SecondStepPage) -> Response[str]:
    """Where a sign-in goes: the second page, the recovery codes of a factor enrolled on the way,
    or the client's redirect with its code; and the cookies that go with each."""
    event = app.current_event.raw_event
    if isinstance(outcome, SecondStepPage):
        cookies = [mfa_cookie(event, outcome.secret)] if outcome.secret else []
        page = second_factor_page(outcome.view)
        return html(outcome.status, page, cookies=cookies, form_targets=[request.redirect_uri])
    cookies = [mfa_cookie(event, None)] if mfa_secret(event) else []
    if outcome.session_secret is not None:
        cookies.append(session_cookie(event, request.client.org_id, outcome.session_secret))
    if outcome.recovery_codes:
        return html(200, recovery_codes_page(outcome.recovery_codes, outcome.location), cookies=cookies)
    return redirect(outcome.location, cookies)


@app.get("/oauth/assets/passkey.js", response_description="The passkey button's script (JavaScript)")
def get_passkey_script() -> Response[str]:
    """The static script of the second step's passkey button (the pages' CSP allows it, and no
    inline script)."""
    return Response(
        status_code=200,
        content_type="text/javascript; charset=utf-8",
        body=PASSKEY_SCRIPT,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@app.get("/oauth/callback")
@tracer.capture_method
def get_callback(login: Login, federation: Federation, federated: Federated) -> Response[str]:
    """Back from an organization's identity provider (docs/api.md §12): the provider's answer is
    checked, and the user it vouches for signs in to the client that asked, as §1 does. Any
    refusal is a page (never a redirect with a code) and, once the connection is known, an
    audit entry."""
    event = app.current_event.raw_event
    query = app.current_event.query_string_parameters or {}
    params = {name: query[name] for name in CALLBACK_PARAMS if name in query}
    meta = request_meta(event, app.context["request_id"])
    forget = federation_cookie(event, None)
    try:
        vouched = federation.arrive(params, federation_secret(event), f"{issuer_for(event)}/oauth/callback")
    except FederationError as problem:
        if problem.connection is not None:
            federated.record_failure(problem.connection, problem.message, meta)
        return html(502 if "did not answer" in problem.message else 400, error_page(problem.message), cookies=[forget])
    request = authorize_request(login, vouched.params)
    if isinstance(request, Response):
        return request
    if request.client.org_id != vouched.connection.org_id:
        return html(400, error_page("This sign-in belongs to another organization."), cookies=[forget])
    try:
        signed_in = federated.sign_in(request, vouched, meta, issuer_for(event))
    except LoginRefusedError as failure:
        federated.record_failure(vouched.connection, failure.message, meta)
        return html(failure.status, error_page(failure.message), cookies=[forget])
    answer = _signed_in(request, signed_in)
    answer.cookies.insert(0, forget)
    return answer


@app.get("/oauth/logout")
@tracer.capture_method
def get_logout(logout: Logout) -> Response[str]:
    """OpenID Connect RP-Initiated Logout: with the client's ID token, at once; without it, after
    the person confirms (the page posts back here)."""
    query = app.current_event.query_string_parameters or {}
    params = {name: query[name] for name in LOGOUT_PARAMS if name in query}
    if "id_token_hint" not in params:
        try:
            logout.validate(params, issuer_for(app.current_event.raw_event))
        except LogoutError as problem:
            return html(400, error_page(str(problem)))
        targets = [params["post_logout_redirect_uri"]] if "post_logout_redirect_uri" in params else []
        return html(200, logout_page(params), form_targets=targets)
    return _end_session(logout, params)


@app.post("/oauth/logout")
@tracer.capture_method
def post_logout(logout: Logout) -> Response[str]:
    try:
        params = parse_parameters(app.current_event.decoded_body, FORM, LOGOUT_PARAMS)
    except OAuthError as problem:
        return html(400, error_page(problem.description))
    return _end_session(logout, params)


def _end_session(logout: LogoutService, params: dict[str, str]) -> Response[str]:
    event = app.current_event.raw_event
    try:
        request = logout.validate(params, issuer_for(event))
    except LogoutError as problem:
        return html(400, error_page(str(problem)))
    org_cookie = cookie_name(request.client.org_id) if request.client is not None else None
    ended = logout.end(request, session_secrets(event), org_cookie)
    cookies = [expired_cookie(event, name) for name in ended]
    location = request.redirect()
    if location is not None:
        return redirect(location, cookies)
    return html(200, signed_out_page(), cookies=cookies)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
