"""Federated sign-in through the handlers on moto (docs/api.md §12), against the real OpenID
provider of tests/support/oidc_provider.py: the sign-in function's own reads (the connection's
secret in Secrets Manager, the way back, the link) are checked against its IAM policy here, as
every handler's calls are. tests/local/test_local_sso.py covers the rules over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from tests.support.api import InProcessApi
from tests.support.login import LoginWorld, exchange
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    IN_PROCESS_CALLBACK,
    Provider,
    back_from_the_provider,
    oidc_provider,
)
from umapi import services
from umapi.settings import get_settings

ACCOUNTS = {"grace@federated.example": {"email_verified": True, "name": "Grace Hopper"}}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with oidc_provider(IN_PROCESS_CALLBACK, ACCOUNTS) as running:
        yield running


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
    answer = back_from_the_provider(world, provider.issuer, "grace@federated.example")
    assert answer.status == 302, answer.body[answer.body.find("<main>") :]
    query = parse_qs(urlsplit(answer.header("Location") or "").query)
    assert query["state"] == ["xyz"]
    tokens = exchange(world, world.spa, query["code"][0]).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["idp"] == created.json()["id"]
    user = api.get(f"/users/{claims['sub']}", token=world.tenant.access).json()
    assert (user["email"], user["sso_provider"], user["status"]) == ("grace@federated.example", "Federated", "active")
    again = back_from_the_provider(world, provider.issuer, "grace@federated.example")
    assert again.status == 302
    replay = api.get("/oauth/callback", query={"state": "x", "code": "y"})
    assert replay.status == 400
