"""The authorization endpoint's answers to a browser: pages, redirects and the form's cookie.

The routes (``functions/sign_in/handler.py``) only choose among them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from umapi.auth.browser_sessions import COOKIE_PREFIX, SESSION_SECONDS, cookie_name
from umapi.auth.login import FORM_COOKIE, FORM_SECONDS, LoginService, RedirectError
from umapi.auth.pages import SECURITY_HEADERS, content_security_policy, login_page
from umapi.auth.second_step import ATTEMPT_COOKIE, ATTEMPT_SECONDS
from umapi.clients.entities import Client
from umapi.http import header, public_base_url

# The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1).
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "max_age",
)
# What the sign-in form posts: the authorize parameters and the credentials.
SIGN_IN_PARAMS = frozenset({*AUTHORIZE_PARAMS, "email", "password", "login_token", "step", "otp", "credential"})
# What an identity provider sends back to /oauth/callback (RFC 6749 §4.1.2, RFC 9207 ``iss``).
CALLBACK_PARAMS = frozenset({"code", "state", "error", "error_description", "iss"})
# The end-session endpoint's parameters (OpenID Connect RP-Initiated Logout 1.0 §2).
LOGOUT_PARAMS = frozenset({"id_token_hint", "client_id", "post_logout_redirect_uri", "state"})


def html(
    status: int,
    page: str,
    cookie: str | None = None,
    cookies: list[Cookie] | None = None,
    form_targets: Sequence[str] | None = (),
) -> Response[str]:
    """An HTML page with the pages' security headers (``form_targets``: where its form may lead
    besides here, ``content_security_policy``)."""
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = content_security_policy(form_targets)
    if cookie is not None:
        headers["Set-Cookie"] = cookie
    return Response(
        status_code=status, content_type="text/html; charset=utf-8", body=page, headers=headers, cookies=cookies
    )


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(
        status_code=302, body="", headers={"Location": location, "Cache-Control": "no-store"}, cookies=cookies
    )


def session_cookie(event: Mapping[str, Any], org_id: str, secret: str) -> Cookie:
    """The browser session's cookie: HttpOnly, ``SameSite=Lax`` (sent on the top-level
    navigation from the client's site to the authorization endpoint, never on cross-site posts),
    ``Secure`` on https. No ``Path``: the browser scopes it to the sign-in pages' directory."""
    return Cookie(
        cookie_name(org_id),
        secret,
        secure=_is_https(event),
        http_only=True,
        max_age=SESSION_SECONDS,
        same_site=SameSite.LAX_MODE,
    )


def expired_cookie(event: Mapping[str, Any], name: str) -> Cookie:
    return Cookie(name, "", secure=_is_https(event), http_only=True, max_age=0, same_site=SameSite.LAX_MODE)


def session_secrets(event: Mapping[str, Any]) -> dict[str, str]:
    """The browser session cookies the browser sent: cookie name → secret."""
    return {name: value for name, value in _cookies(event).items() if name.startswith(COOKIE_PREFIX)}


def _is_https(event: Mapping[str, Any]) -> bool:
    return public_base_url(event).startswith("https:")


def error_redirect(params: Mapping[str, str], problem: RedirectError) -> Response[str]:
    """Back to the (validated) redirect URI with ``error=`` (RFC 6749 §4.1.2.1)."""
    query = {"error": problem.error, "error_description": problem.description, "state": params.get("state")}
    uri = params["redirect_uri"]
    return redirect(f"{uri}{'&' if '?' in uri else '?'}{urlencode({k: v for k, v in query.items() if v is not None})}")


def sign_in_form(
    event: Mapping[str, Any],
    login: LoginService,
    client: Client,
    params: dict[str, str],
    status: int = 200,
    *,
    error: str | None = None,
    email: str = "",
    password: bool = False,
) -> Response[str]:
    """The sign-in page (the email step, or with ``password`` the password step), bound to this
    browser by a fresh cookie and form token."""
    binding = login.bind_form(client.id)
    secure = "; Secure" if _is_https(event) else ""
    cookie = f"{FORM_COOKIE}={binding.cookie}; Max-Age={FORM_SECONDS}; HttpOnly; SameSite=Lax{secure}"
    page = login_page(client.name, params | {"login_token": binding.token}, error, email, password=password)
    # The password step leads back to the client; the email step may lead to an identity provider.
    return html(status, page, cookie, form_targets=[params["redirect_uri"]] if password else None)


FEDERATION_COOKIE = "umapi_federation"


def federation_cookie(event: Mapping[str, Any], secret: str | None) -> Cookie:
    """Binds the way back from the identity provider to this browser (10 minutes); ``None``
    expires it."""
    return Cookie(
        FEDERATION_COOKIE,
        secret or "",
        secure=_is_https(event),
        http_only=True,
        max_age=600 if secret else 0,
        same_site=SameSite.LAX_MODE,
    )


def federation_secret(event: Mapping[str, Any]) -> str | None:
    return _cookies(event).get(FEDERATION_COOKIE)


def mfa_cookie(event: Mapping[str, Any], secret: str | None) -> Cookie:
    """Binds the second step to this browser (5 minutes): ``SameSite=Strict``, since the second
    page posts only to itself; ``None`` expires it."""
    return Cookie(
        ATTEMPT_COOKIE,
        secret or "",
        secure=_is_https(event),
        http_only=True,
        max_age=ATTEMPT_SECONDS if secret else 0,
        same_site=SameSite.STRICT_MODE,
    )


def mfa_secret(event: Mapping[str, Any]) -> str | None:
    return _cookies(event).get(ATTEMPT_COOKIE)


def form_cookie(event: Mapping[str, Any]) -> str | None:
    """The value of the sign-in form's cookie the browser sent back, if any."""
    return _cookies(event).get(FORM_COOKIE)


def _cookies(event: Mapping[str, Any]) -> dict[str, str]:
    try:
        jar = SimpleCookie(header(event, "cookie"))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}
