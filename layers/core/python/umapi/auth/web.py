"""The authorization endpoint's answers to a browser: pages, redirects and the form's cookie.

The routes (``functions/sign_in/handler.py``) only choose among them.
"""

from __future__ import annotations

from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response

from umapi.auth.login import FORM_COOKIE, FORM_SECONDS, LoginService, RedirectError
from umapi.auth.pages import SECURITY_HEADERS, login_page
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
)
# What the sign-in form posts: the authorize parameters and the credentials.
SIGN_IN_PARAMS = frozenset({*AUTHORIZE_PARAMS, "email", "password", "login_token"})


def html(status: int, page: str, cookie: str | None = None) -> Response[str]:
    headers = dict(SECURITY_HEADERS)
    if cookie is not None:
        headers["Set-Cookie"] = cookie
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=page, headers=headers)


def redirect(location: str) -> Response[str]:
    return Response(status_code=302, body="", headers={"Location": location, "Cache-Control": "no-store"})


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
) -> Response[str]:
    """The sign-in page, bound to this browser by a fresh cookie and form token."""
    binding = login.bind_form(client.id)
    secure = "; Secure" if public_base_url(event).startswith("https:") else ""
    cookie = f"{FORM_COOKIE}={binding.cookie}; Max-Age={FORM_SECONDS}; HttpOnly; SameSite=Lax{secure}"
    return html(status, login_page(client.name, params | {"login_token": binding.token}, error, email), cookie)


def form_cookie(event: Mapping[str, Any]) -> str | None:
    """The value of the sign-in form's cookie the browser sent back, if any."""
    try:
        jar = SimpleCookie(header(event, "cookie"))
    except CookieError:
        return None
    morsel = jar.get(FORM_COOKIE)
    return morsel.value if morsel is not None else None
