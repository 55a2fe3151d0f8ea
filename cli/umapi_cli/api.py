"""HTTP calls to the API, with the API's error envelope turned into exceptions."""

from __future__ import annotations

import base64
import json
from typing import Any

import requests

TIMEOUT = 30


class CliError(Exception):
    """A failure to report and exit with ``exit_code``."""

    exit_code = 1

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class ApiError(CliError):
    """The API answered with an error (4xx or 5xx)."""

    exit_code = 1


class UsageError(CliError):
    """Something the command needs was not given."""

    exit_code = 2


class AuthError(CliError):
    """Not logged in, the token expired or was revoked, or the credentials were refused."""

    exit_code = 3


class UnreachableError(CliError):
    """The API could not be reached."""

    exit_code = 4


def refusal(response: requests.Response) -> CliError:
    """The error an API answer stands for (the API's error envelope, or OAuth's)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if "error" in body and isinstance(body["error"], dict):  # the API's error envelope
        error = body["error"]
        code, message = str(error.get("code", "error")), str(error.get("message", response.reason))
    else:  # OAuth (RFC 6749 §5.2)
        code = str(body.get("error", "error"))
        message = str(body.get("error_description") or response.reason or "request refused")
    kind = AuthError if response.status_code == 401 or code == "invalid_client" else ApiError
    return kind(f"{message} ({response.status_code} {code})", code=code, status=response.status_code)


def client_credentials_token(api_url: str, client_id: str, secret: str, scope: str | None) -> dict[str, Any]:
    """RFC 6749 §4.4 at ``POST /auth/token``: the token answer."""
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    try:
        response = requests.post(f"{api_url}/auth/token", data=form, auth=(client_id, secret), timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise UnreachableError(f"Cannot reach {api_url}: {exc.__class__.__name__}.") from exc
    if response.status_code != 200:
        raise refusal(response)
    answer: dict[str, Any] = response.json()
    return answer


def token_claims(token: str) -> dict[str, Any]:
    """The JWT's claims, unverified: for display only (the API checks the token on every call)."""
    try:
        payload = token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims
