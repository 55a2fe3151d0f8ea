"""Federated sign-in through the handlers on moto (docs/api.md §12), against the real OpenID
provider of tests/support/oidc_provider.py: the sign-in function's own reads (the connection's
secret in Secrets Manager, the way back, the link) are checked against its IAM policy here, as
every handler's calls are. tests/local/test_local_sso.py covers the rules over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import pyotp
import pytest

from tests.support.api import ApiResponse, InProcessApi
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

ACCOUNTS = {
    "grace@federated.example": {"email_verified": True, "name": "Grace Hopper"},
    "ada@federated.example": {"email_verified": True, "name": "Ada Lovelace"},
}


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


def connect(api: InProcessApi, world: LoginWorld, provider: Provider, name: str) -> ApiResponse:
    """A connection of the world's organization to the provider, for federated.example."""
    created = api.post(
        "/sso-connections",
        token=world.tenant.access,
        json_body={
            "name": name,
            "type": "oidc",
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "domains": ["federated.example"],
        },
    )
    assert created.status == 201, created.body
    return created


@pytest.mark.usefixtures("loopback")
def test_a_federated_sign_in_through_the_handlers(world: LoginWorld, api: InProcessApi, provider: Provider) -> None:
    created = connect(api, world, provider, "Federated")
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


@pytest.mark.usefixtures("loopback")
def test_a_federated_user_with_mfa_enabled_gets_the_second_page_unless_the_provider_did_mfa(
    world: LoginWorld, api: InProcessApi, provider: Provider
) -> None:
    """docs/api.md §11: after SSO, a user with mfa_enabled answers the second page (here,
    enrolling), unless the identity provider asserted MFA in its amr."""
    created = connect(api, world, provider, "Federated MFA")
    ids = {}
    for email in ("grace@federated.example", "ada@federated.example"):  # first sign-ins: JIT users
        first = back_from_the_provider(world, provider.issuer, email)
        assert first.status == 302, first.body
        code = parse_qs(urlsplit(first.header("Location") or "").query)["code"][0]
        ids[email] = jwt.decode(
            exchange(world, world.spa, code).json()["id_token"], options={"verify_signature": False}
        )["sub"]
        patched = api.patch(f"/users/{ids[email]}", token=world.tenant.access, json_body={"mfa_enabled": True})
        assert patched.status == 200
    page = back_from_the_provider(world, provider.issuer, "grace@federated.example")
    assert page.status == 200, page.body
    assert "Two-step verification" in page.body
    assert "Location" not in page.headers
    cookies = page.all_headers("Set-Cookie")
    assert any(c.startswith("umapi_mfa=") for c in cookies)
    assert any(c.startswith("umapi_federation=;") or c.startswith('umapi_federation=""') for c in cookies)
    secret = re.search(r"<code id=totp-secret>([^<]+)</code>", page.body).group(1).replace(" ", "")  # type: ignore[union-attr]
    mfa = next(c for c in cookies if c.startswith("umapi_mfa=")).split(";", 1)[0]
    saved = api.post(
        "/oauth/authorize", form={"step": "second-factor", "otp": pyotp.TOTP(secret).now()}, headers={"Cookie": mfa}
    )
    assert saved.status == 200, saved.body
    location = unescape(re.search(r"href='([^']+)'", saved.body).group(1))  # type: ignore[union-attr]
    tokens = exchange(world, world.spa, parse_qs(urlsplit(location).query)["code"][0]).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["idp"] == created.json()["id"]
    assert claims["amr"] == ["otp", "mfa"]  # the provider said nothing of how; the second factor did
    # The provider that did MFA itself: straight back to the client.
    provider.mode("amr")  # its ID tokens say amr ["pwd", "mfa"]
    try:
        direct = back_from_the_provider(world, provider.issuer, "ada@federated.example")
    finally:
        provider.mode("ok")
    assert direct.status == 302, direct.body
    code = parse_qs(urlsplit(direct.header("Location") or "").query)["code"][0]
    id_token = exchange(world, world.spa, code).json()["id_token"]
    assert jwt.decode(id_token, options={"verify_signature": False})["amr"] == ["pwd", "mfa"]
