"""The browser suite: Playwright for Python driving Debian's Chromium (never a downloaded
browser) against the local runtime, as a person would use the sign-in pages.

- Chromium is ``/usr/bin/chromium`` (``CHROMIUM`` to choose another); when it is missing and
  this machine may install packages (root, ``apt-get`` present), ``apt-get install -y chromium``
  runs first, else the suite fails and says how to get it.
- The runtime is reached at ``http://localhost:<port>``: browsers take ``localhost`` as a secure
  context and as a passkey relying party (an IP address is neither).
- Screenshots of each page go to ``SCREENSHOTS`` (default ``.screenshots/``, ignored by git);
  ``make screenshots`` writes them into ``docs/images/`` instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, Playwright, sync_playwright

from devserver.runtime import LocalRuntime, LocalRuntimeConfig
from tests.support.http import admin_headers, new_client, new_org

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Browser-Pass-77"
pytestmark = pytest.mark.e2e


def chromium_path() -> str:
    """The system Chromium, installed with apt when missing and allowed."""
    wanted = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if Path(wanted).exists():
        return wanted
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, capture_output=True)  # noqa: S607
        if Path(wanted).exists():
            return wanted
    pytest.fail(f"Chromium is not at {wanted}: install it (apt-get install -y chromium) or set CHROMIUM.")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def local_api() -> Iterator[LocalRuntime]:
    runtime = LocalRuntime(LocalRuntimeConfig(template_path=ROOT / "template.yaml", port=0))
    runtime.start()
    yield runtime
    runtime.stop()


@pytest.fixture(scope="module")
def site(local_api: LocalRuntime) -> str:
    """The runtime as a browser reaches it: ``http://localhost:<port>``."""
    return local_api.url.replace("127.0.0.1", "localhost")


class _Client(BaseHTTPRequestHandler):
    """The client application: its redirect URI (a page that says the browser is back), and a
    webhook receiver (``POST``) that answers 500 while ``failing`` is set, 204 otherwise."""

    failing = False
    received: list[str] = []  # noqa: RUF012 - the test reads what arrived

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        self.send_response(500 if type(self).failing else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Back at the application</title><h1>Back at the application</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def callback() -> Iterator[str]:
    """The client's redirect URI, served for real (browsers follow the redirect to it)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Client)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}/callback"
    server.shutdown()


@pytest.fixture
def receiver(callback: str) -> Iterator[type[_Client]]:
    """The webhook receiver of ``callback``'s server (its URL: ``receiver.url``)."""
    _Client.failing = False
    _Client.received.clear()
    _Client.url = callback.replace("/callback", "/hooks").replace("localhost", "127.0.0.1")  # type: ignore[attr-defined]
    yield _Client
    _Client.failing = False


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 900, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="module")
def tenant(local_api: LocalRuntime, callback: str) -> dict[str, Any]:
    """An organization with a public client whose redirect URI the test answers."""
    headers = admin_headers(local_api)
    org = new_org(local_api, headers, "Browser")
    client = new_client(
        local_api,
        headers,
        org,
        name="Browser App",
        public=True,
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[callback],
        scopes=["users:read"],
    )
    return {"org_id": org, "client_id": client["id"], "headers": headers, "callback": callback}


def screenshot(page: Page, name: str) -> None:
    folder = Path(os.environ.get("SCREENSHOTS", ROOT / ".screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def new_user(
    local_api: LocalRuntime, tenant: dict[str, Any], email: str, role: str = "member", **extra: Any
) -> dict[str, Any]:
    """An active user with ``PASSWORD`` (``extra``: more fields of the user, e.g. mfa_enabled)."""
    created = requests.post(
        f"{local_api.url}/users",
        params={"org_id": tenant["org_id"]},
        json={"email": email, "name": email.split("@")[0].title(), "password": PASSWORD, "role": role},
        headers=tenant["headers"],
        timeout=30,
    )
    assert created.status_code == 201, created.text
    user = created.json()
    url = f"{local_api.url}/users/{user['id']}"
    activated = requests.post(
        f"{url}/activate", params={"org_id": tenant["org_id"]}, headers=tenant["headers"], timeout=30
    )
    assert activated.status_code == 200, activated.text
    if extra:
        patched = requests.patch(
            url, params={"org_id": tenant["org_id"]}, json=extra, headers=tenant["headers"], timeout=30
        )
        assert patched.status_code == 200, patched.text
    return dict(user)


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """Chromium's virtual platform authenticator: user verification on, presence automatic."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]
