"""Federated sign-in through the handlers on moto (docs/api.md §12), against the real OpenID
provider of tests/support/oidc_provider.py: the sign-in function's own reads (the connection's
secret in Secrets Manager, the way back, the link) are checked against its IAM policy here, as
every handler's calls are. tests/local/test_local_sso.py covers the rules over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests

from tests.support.api import ApiResponse, InProcessApi
from tests.support.login import LoginWorld, authorize_params, exchange, form_cookie, hidden_fields
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, oidc_provider
from umapi import services
from umapi.settings import get_settings

CALLBACK = "http://127.0.0.1:3000/oauth/callback"  # what the in-process API is called on
ACCOUNTS = {"grace@federated.example": {"email_verified": True, "name": "Grace Hopper"}}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with oidc_provider(CALLBACK, ACCOUNTS) as running:
        yield running


def back_from_the_provider(world: LoginWorld, provider: Provider, email: str) -> ApiResponse:
    """Email step, the provider's pages, and our callback with the way-back cookie."""
    page = world.api.get("/oauth/authorize", query=authorize_params(world.spa, scope="openid email"))
    departed = world.api.post(
        "/oauth/authorize",
        form=hidden_fields(page.body) | {"email": email},
        headers={"Cookie": form_cookie(page)},
    )
    assert departed.status == 302, departed.body
    location = departed.header("Location") or ""
    assert location.startswith(f"{provider.issuer}/auth?")
    way_back = (departed.header("Set-Cookie") or "").split(";", 1)[0]
    assert way_back.startswith("umapi_federation=")
    browser = requests.Session()
    for _ in range(10):
        answer = browser.get(location, allow_redirects=False, timeout=30)
        location = urljoin(location, answer.headers.get("Location", ""))
        if location.startswith(CALLBACK):
            query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
            return world.api.get("/oauth/callback", query=query, headers={"Cookie": way_back})
    raise AssertionError("the provider never sent the browser back")


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider is on 127.0.0.1: what a local runtime allows (WEBHOOK_ALLOW_LOOPBACK)."""
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    services.reset()


@pytest.mark.usefixtures("loopback")
def test_a_federated_sign_in_through_the_handlers(world: LoginWorld, api: InProcessApi, provider: Provider) -> None:
    created = api.post(
        "/sso-connections",
        token=world.tenant.access,
        json_body={
            "name": "Federated",
            "type": "oidc",
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "domains": ["federated.example"],
        },
    )
    assert created.status == 201, created.body
    answer = back_from_the_provider(world, provider, "grace@federated.example")
    assert answer.status == 302, answer.body[answer.body.find("<main>") :]
    query = parse_qs(urlsplit(answer.header("Location") or "").query)
    assert query["state"] == ["xyz"]
    tokens = exchange(world, world.spa, query["code"][0]).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["idp"] == created.json()["id"]
    user = api.get(f"/users/{claims['sub']}", token=world.tenant.access).json()
    assert (user["email"], user["sso_provider"], user["status"]) == ("grace@federated.example", "Federated", "active")
    again = back_from_the_provider(world, provider, "grace@federated.example")
    assert again.status == 302
    replay = api.get("/oauth/callback", query={"state": "x", "code": "y"})
    assert replay.status == 400
