"""A real OpenID provider for the SSO tests: node's ``oidc-provider`` (certified by the OpenID
Foundation), installed from npm into ``tests/idp/node_modules`` from the committed lock file on
first use, and run from ``tests/idp/server.mjs`` on 127.0.0.1. It signs in whoever the
authorization request's ``login_hint`` names, and on request answers its token endpoint the
ways a broken or hostile provider would (``mode``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from tests.support.api import ApiResponse
from tests.support.login import LoginWorld, authorize_params, form_cookie, hidden_fields

IDP = Path(__file__).resolve().parents[1] / "idp"
CLIENT_ID = "umapi-sso"
CLIENT_SECRET = "idp-secret-for-umapi"
IN_PROCESS_CALLBACK = "http://127.0.0.1:3000/oauth/callback"  # the in-process API's root


class Provider:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def mode(self, value: str) -> None:
        """``ok``, ``wrong-nonce``, ``wrong-aud``, ``expired``, ``bad-signature``, ``slow`` or ``error``."""
        assert requests.post(f"{self.issuer}/__test/mode", data=value, timeout=10).status_code == 204


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def oidc_provider(callback_url: str, accounts: dict[str, dict[str, Any]]) -> Iterator[Provider]:
    """The provider, with one client (``CLIENT_ID``) whose redirect URI is ``callback_url``."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise RuntimeError("Node.js and npm are needed for the SSO tests (the OpenID provider is node's oidc-provider)")
    if not (IDP / "node_modules" / "oidc-provider").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=IDP, check=True, capture_output=True)  # noqa: S603
    port = _free_port()
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [callback_url],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    environment = {**os.environ, "PORT": str(port), "CLIENTS": json.dumps([client]), "ACCOUNTS": json.dumps(accounts)}
    process = subprocess.Popen(  # noqa: S603 - our script
        [node, "server.mjs"], cwd=IDP, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("listening "):
            break
        if process.poll() is not None:
            raise RuntimeError(f"the OpenID provider did not start: {process.stdout.read()}")
    try:
        yield Provider(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def back_from_the_provider(
    world: LoginWorld, issuer: str, email: str, callback_calls: list[str] | None = None
) -> ApiResponse:
    """Email step, the provider's pages, and our callback with the way-back cookie;
    ``callback_calls`` collects the names of the DynamoDB calls the callback made (make bench)."""
    page = world.api.get("/oauth/authorize", query=authorize_params(world.spa, scope="openid email"))
    departed = world.api.post(
        "/oauth/authorize",
        form=hidden_fields(page.body) | {"email": email},
        headers={"Cookie": form_cookie(page)},
    )
    assert departed.status == 302, departed.body
    location = departed.header("Location") or ""
    assert location.startswith(f"{issuer}/auth?")
    way_back = (departed.header("Set-Cookie") or "").split(";", 1)[0]
    assert way_back.startswith("umapi_federation=")
    browser = requests.Session()
    for _ in range(10):
        answer = browser.get(location, allow_redirects=False, timeout=30)
        location = urljoin(location, answer.headers.get("Location", ""))
        if location.startswith(IN_PROCESS_CALLBACK):
            query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
            if callback_calls is None:
                return world.api.get("/oauth/callback", query=query, headers={"Cookie": way_back})
            from umapi.aws import dynamodb_client

            def note(model: Any, **_: Any) -> None:
                callback_calls.append(model.name)

            events = dynamodb_client().meta.events
            events.register("after-call.dynamodb", note)
            try:
                return world.api.get("/oauth/callback", query=query, headers={"Cookie": way_back})
            finally:
                events.unregister("after-call.dynamodb", note)
    raise AssertionError("the provider never sent the browser back")
