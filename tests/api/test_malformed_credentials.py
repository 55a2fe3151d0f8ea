"""Malformed credentials (docs/api.md §1): every credential parameter is bounded in length and must
be valid text. Anything else is an RFC 6749 error at the token endpoint (counted in the failure
bucket), 200 at revoke, and the sign-in form again at /oauth/authorize; never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.api import ApiResponse, InProcessApi
from tests.support.login import LoginWorld, authorize_params, form_cookie, hidden_fields

LONG = "x" * 3000
SURROGATE = "\ud800"


def post_json(api: InProcessApi, path: str, body: dict[str, Any], **kwargs: Any) -> ApiResponse:
    """``body`` as JSON with ``\\ud800`` escapes kept (valid JSON, not valid text)."""
    return api.post(path, raw_body=json.dumps(body), headers={"Content-Type": "application/json"}, **kwargs)


def test_a_3000_character_client_id_is_invalid_client_and_counts_as_a_failure(world: LoginWorld) -> None:
    form = {"grant_type": "client_credentials", "client_id": LONG, "client_secret": "s"}
    answers = [world.api.post("/auth/token", form=form) for _ in range(31)]
    assert [a.status for a in answers] == [401] * 30 + [429]
    assert answers[0].json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("field", "error", "status"),
    [("client_secret", "invalid_client", 401), ("refresh_token", "invalid_request", 400)],
)
def test_a_lone_surrogate_in_a_json_credential_is_an_oauth_error(
    world: LoginWorld, field: str, error: str, status: int
) -> None:
    body = {
        "grant_type": "refresh_token",
        "client_id": world.web.client_id,
        "client_secret": world.web.client_secret,
        "refresh_token": "r" * 43,
    }
    body[field] = "abc" + SURROGATE
    answer = post_json(world.api, "/auth/token", body)
    assert (answer.status, answer.json()["error"]) == (status, error), answer.body
    assert answer.header("Cache-Control") == "no-store"


@pytest.mark.parametrize(
    "field", ["code", "code_verifier", "redirect_uri", "scope", "grant_type"], ids=lambda name: name
)
def test_an_overlong_parameter_is_invalid_request(world: LoginWorld, field: str) -> None:
    form = {"grant_type": "authorization_code", "code": "c" * 43, "redirect_uri": "https://app.example/callback"}
    form[field] = LONG
    answer = world.api.post("/auth/token", form=form, basic=(world.web.client_id, world.web.client_secret or ""))
    expected = "unsupported_grant_type" if field == "grant_type" else "invalid_request"
    assert (answer.status, answer.json()["error"]) == (400, expected), answer.body
    assert LONG not in answer.body


@pytest.mark.parametrize("token", ["t" + SURROGATE, "t" * 10_000])
def test_revoking_a_malformed_token_is_200(world: LoginWorld, token: str) -> None:
    body = {"token": token, "client_id": world.web.client_id, "client_secret": world.web.client_secret}
    assert post_json(world.api, "/auth/revoke", body).status == 200


def test_revoking_with_a_malformed_client_id_is_invalid_client(world: LoginWorld) -> None:
    answer = post_json(world.api, "/auth/revoke", {"token": "t", "client_id": LONG + SURROGATE})
    assert (answer.status, answer.json()["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(("email", "password"), [(LONG + "@example.com", "Pass-word-1"), ("a@example.com", LONG * 2)])
def test_a_sign_in_with_an_overlong_email_or_password_shows_the_form_again(
    world: LoginWorld, email: str, password: str
) -> None:
    page = world.api.get("/oauth/authorize", query=authorize_params(world.web))
    form = hidden_fields(page.body) | {"email": email, "password": password}
    answer = world.api.post("/oauth/authorize", form=form, headers={"Cookie": form_cookie(page)})
    assert answer.status == 401, answer.body
    assert (answer.header("Content-Type") or "").startswith("text/html")
    assert "The email or password is not correct." in answer.body
    assert "<form" in answer.body


def test_authorize_with_an_overlong_client_id_is_an_error_page(world: LoginWorld) -> None:
    answer = world.api.get("/oauth/authorize", query=authorize_params(world.web, client_id=LONG))
    assert answer.status == 400
    assert (answer.header("Content-Type") or "").startswith("text/html")
