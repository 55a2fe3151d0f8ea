"""The developer dashboard in a real browser (docs/dashboard.md, docs/api.md §13): signing in
with the organization's dashboard client, creating an API key and using it over HTTP, creating
and suspending a user, signing out; axe-core on every page (no serious or critical violation).
Screenshots of each page are taken as it is shown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from playwright.sync_api import FilePayload, Page, expect

from devserver.runtime import LocalRuntime, LocalRuntimeConfig
from tests.browser.conftest import PASSWORD, ROOT, new_user, screenshot, virtual_authenticator

AXE = Path(__file__).resolve().parents[2] / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"


def accessible(page: Page, name: str) -> None:
    """axe-core (run through the devtools protocol, which the page's CSP does not govern): no
    serious or critical violation."""
    if not AXE.is_file():
        pytest.fail("axe-core is missing: make install installs the dashboard's tools (dashboard/node_modules).")
    page.evaluate(AXE.read_text())
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in found["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: " + json.dumps([(v["id"], v["impact"], v["help"]) for v in bad])


@pytest.fixture(scope="module")
def local_api() -> Iterator[LocalRuntime]:
    """The local runtime with webhook retries a second apart (two attempts), so a failed
    delivery fails within the test."""
    patch = pytest.MonkeyPatch()
    patch.setenv("WEBHOOK_RETRY_DELAYS", "0,1")
    runtime = LocalRuntime(LocalRuntimeConfig(template_path=ROOT / "template.yaml", port=0))
    runtime.start()
    yield runtime
    runtime.stop()
    patch.undo()


def sign_in(page: Page, site: str, org_id: str, email: str) -> None:
    page.goto(f"{site}/dashboard?org={org_id}")
    expect(page.get_by_label("Organization id")).to_have_value(org_id)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner").get_by_text(email)).to_be_visible()


def test_sign_in_keys_users_and_sign_out(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    admin = new_user(local_api, tenant, "dash-admin@example.com", role="admin")
    page.goto(f"{site}/dashboard?org={tenant['org_id']}")
    accessible(page, "sign-in")
    screenshot(page, "dashboard-sign-in")
    sign_in(page, site, tenant["org_id"], admin["email"])
    # The token lives in memory: nothing of it in the browser's storage.
    storage = page.evaluate("JSON.stringify([localStorage, sessionStorage])")
    assert "eyJ" not in storage

    # Users: the list, a new user, suspended.
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_role("cell", name=admin["email"], exact=True)).to_be_visible()
    accessible(page, "users")
    page.get_by_text("Create a user").click()
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Name", exact=True).fill("Grace")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#new-email-error")).to_be_visible()  # the API's detail, next to its field
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password (optional)").fill("Grace-Pass-77")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_contain_text("grace@example.com was created")
    screenshot(page, "dashboard-users")
    page.get_by_label("Search").fill("grace")
    expect(page.get_by_role("cell", name="grace@example.com", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=admin["email"], exact=True)).to_have_count(0)

    # API keys: create one with a scope, see its secret once, use it.
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.get_by_text("Create an API key").click()
    page.get_by_label("Name").fill("CI deploys")
    page.get_by_role("checkbox", name="users:read").check()
    page.get_by_role("button", name="Create API key").click()
    secret = page.locator("#client-secret").inner_text()
    expect(page.get_by_text("it is not shown again")).to_be_visible()
    accessible(page, "api keys")
    screenshot(page, "dashboard-api-keys")
    client_id = page.get_by_role("row", name="CI deploys").locator("code").inner_text()
    token = requests.post(
        f"{local_api.url}/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=30
    )
    assert token.status_code == 200, token.text
    listed = requests.get(
        f"{local_api.url}/users", headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=30
    )
    assert listed.status_code == 200
    page.get_by_role("button", name="I have copied it").click()
    expect(page.locator("#client-secret")).to_have_count(0)

    # Roles: a custom role from the checklist; system roles are read-only.
    page.get_by_role("link", name="Roles").click()
    expect(page.get_by_role("heading", name="Roles")).to_be_visible()
    expect(page.get_by_role("button", name="Delete admin")).to_have_count(0)
    page.get_by_text("Create a role").click()
    page.get_by_label("Name").fill("Support")
    page.get_by_role("checkbox", name="users:read").check()
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_role("button", name="Delete Support")).to_be_visible()
    accessible(page, "roles")
    screenshot(page, "dashboard-roles")

    # The audit log tells all of it; a target is a link that filters by it.
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    for action in ("role.created", "client.created", "user.created"):
        expect(page.get_by_role("cell", name=action, exact=True).first).to_be_visible()
    page.get_by_role("row").filter(has_text="role.created").get_by_role("button", name="role").click()
    expect(page.get_by_label("Target id")).to_have_value(re.compile(r"^role_"))
    expect(page.get_by_role("cell", name="user.created", exact=True)).to_have_count(0)
    accessible(page, "audit log")
    screenshot(page, "dashboard-audit-log")

    # Sign out: the session ends, the sign-in page asks before it ends the browser's.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign out?")).to_be_visible()  # the end-session page
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Organization id")).to_be_visible()


def test_what_the_user_may_not_do_is_not_offered(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    viewer = new_user(local_api, tenant, "dash-viewer@example.com", role="viewer")
    sign_in(page, site, tenant["org_id"], viewer["email"])
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_role("link", name="API keys")).to_have_count(0)
    expect(page.get_by_text("Create a user")).to_have_count(0)
    expect(page.get_by_role("button", name="Suspend")).to_have_count(0)


def test_a_webhook_delivery_fails_and_is_redelivered(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any], receiver: Any
) -> None:
    admin = new_user(local_api, tenant, "dash-hooks@example.com", role="admin")
    sign_in(page, site, tenant["org_id"], admin["email"])
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_text("Add an endpoint").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_role("checkbox", name="user.created").check()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#webhook-secret")).to_have_text(re.compile(r"^whsec_"))
    page.get_by_role("button", name="I have copied it").click()

    # The receiver fails: both attempts are shown with their status, then the event is failed.
    receiver.failing = True
    new_user(local_api, tenant, "hooked@example.com")
    page.get_by_role("button", name="Refresh").click()
    failing = page.get_by_role("row").filter(has_text="user.created").filter(has_text=re.compile(r"#1 500"))
    expect(failing.get_by_text("failed", exact=True)).to_be_visible(timeout=20_000)
    event_id = failing.locator("code").first.inner_text()
    failed = page.get_by_role("row").filter(has_text=event_id)
    expect(failed.get_by_text(re.compile(r"#2 500 in \d+ ms"))).to_be_visible()
    accessible(page, "webhooks")
    screenshot(page, "dashboard-webhooks")

    # Mended, redelivered: delivered.
    receiver.failing = False
    failed.get_by_role("button", name="Redeliver").click()
    expect(failed.get_by_text("delivered", exact=True)).to_be_visible(timeout=20_000)
    expect(failed.get_by_text(re.compile(r"204 in \d+ ms"))).to_be_visible()
    assert any('"user.created"' in body for body in receiver.received)


def test_a_csv_import_reaches_100_percent_and_names_its_bad_row(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    admin = new_user(local_api, tenant, "dash-jobs@example.com", role="admin")
    sign_in(page, site, tenant["org_id"], admin["email"])
    page.get_by_role("link", name="Jobs").click()
    csv = "email,name,department\nada@jobs.example,Ada,R&D\nnot-an-email,Bad,\nbob@jobs.example,Bob,Ops\n"
    upload: FilePayload = {"name": "users.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    page.get_by_label("A csv file").set_input_files(files=[upload])
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("value", "100", timeout=30_000)
    expect(page.get_by_role("status").filter(has_text="100 %")).to_contain_text("2 ok, 1 failed")
    failed = page.get_by_role("table", name="Rows that failed")
    expect(failed.get_by_role("cell", name="3", exact=True)).to_be_visible()  # line 3 of the file
    expect(failed).to_contain_text("email")
    accessible(page, "jobs")
    screenshot(page, "dashboard-jobs")
    page.get_by_role("button", name="Export users").click()
    expect(page.get_by_role("link", name="Download the export")).to_be_visible(timeout=30_000)


def test_my_security_adds_an_authenticator_app_and_a_passkey(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    member = new_user(local_api, tenant, "dash-secure@example.com")
    sign_in(page, site, tenant["org_id"], member["email"])
    page.get_by_role("link", name="My security").click()
    expect(page.get_by_text("Two-step verification is off.")).to_be_visible()
    page.get_by_role("button", name="Add an authenticator app").click()
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    expect(page.get_by_text("Two-step verification is on.")).to_be_visible()
    accessible(page, "my security")
    screenshot(page, "dashboard-security")
    page.get_by_role("button", name="I saved them").click()
    # A passkey, made by Chromium's virtual authenticator for this origin. Adding a second
    # factor needs a sign-in that used one: sign in again with the app's code.
    virtual_authenticator(page)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("sign-in that used one")


def test_my_security_adds_a_passkey_as_the_first_factor(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    member = new_user(local_api, tenant, "dash-passkey@example.com")
    virtual_authenticator(page)
    sign_in(page, site, tenant["org_id"], member["email"])
    page.get_by_role("link", name="My security").click()
    page.get_by_label("Passkey name").fill("This laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("button", name="Remove This laptop")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)  # the first factor brings them
    expect(page.get_by_text("Two-step verification is on.")).to_be_visible()


def test_a_user_is_given_a_role_until_a_date_then_archived_and_purged(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    admin = new_user(local_api, tenant, "dash-manage@example.com", role="admin")
    new_user(local_api, tenant, "temp@example.com")
    sign_in(page, site, tenant["org_id"], admin["email"])
    page.get_by_label("Search").fill("temp@")
    page.get_by_role("button", name="Temp", exact=True).click()
    panel = page.get_by_role("region", name=re.compile("^Temp"))
    panel.get_by_label("Role to assign").select_option(label="viewer")
    panel.get_by_label("Until (optional)").fill("2031-05-01T12:00")
    panel.get_by_role("button", name="Assign role").click()
    expect(panel.get_by_role("status")).to_contain_text("was assigned until 2031-05-01")
    expect(panel.get_by_text(re.compile(r"viewer, until 2031-05-01"))).to_be_visible()
    accessible(page, "manage a user")
    screenshot(page, "dashboard-manage-user")
    panel.get_by_role("button", name="Archive").click()
    expect(panel.get_by_role("status")).to_contain_text("archived")
    purge = panel.get_by_role("button", name="Purge")
    expect(purge).to_be_disabled()
    panel.get_by_label(re.compile("^Purge for good")).fill("temp@example.com")
    purge.click()
    expect(page.get_by_role("region", name=re.compile("^Temp"))).to_have_count(0)
    gone = requests.get(
        f"{local_api.url}/users",
        params={"org_id": tenant["org_id"], "search": "temp@", "status": "archived"},
        headers=tenant["headers"],
        timeout=30,
    ).json()["data"]
    assert gone == []


def test_an_sso_connection_the_provider_does_not_answer_for_is_refused_next_to_its_issuer(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    admin = new_user(local_api, tenant, "dash-sso@example.com", role="admin")
    sign_in(page, site, tenant["org_id"], admin["email"])
    page.get_by_role("link", name="SSO").click()
    expect(page.get_by_role("heading", name="SSO connections")).to_be_visible()
    page.get_by_text("Add a connection").click()
    page.get_by_label("Name").fill("Acme IdP")
    page.get_by_label("Issuer (the provider's URL)").fill("http://127.0.0.1:9/nobody-home")
    page.get_by_label("Client id at the provider").fill("dashboard")
    page.get_by_label("Client secret at the provider").fill("s3cret")
    page.get_by_label("Email domains (comma-separated)").fill("acme-sso.example")
    page.get_by_role("button", name="Add connection").click()
    expect(page.locator("#sso-issuer-error")).to_be_visible(timeout=15_000)
    accessible(page, "sso")
    screenshot(page, "dashboard-sso")


def tab_to(page: Page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused control is the one named ``name`` (its label, its
    aria-label or its text, exactly): the keyboard only, no pointer."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        names = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || !el.matches("a, button, input, select, textarea, summary")) return [];
                const label = el.labels && el.labels[0] ? el.labels[0].textContent : "";
                return [el.getAttribute("aria-label"), label, el.textContent]
                    .filter(Boolean).map((text) => text.replace(/\\s+/g, " ").trim());
            }"""
        )
        if name in names:
            return
    raise AssertionError(f"no control named {name!r} within {limit} presses of Tab")


def test_the_keyboard_alone_signs_in_makes_an_api_key_and_signs_out(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    admin = new_user(local_api, tenant, "dash-keys-only@example.com", role="admin")
    page.goto(f"{site}/dashboard?org={tenant['org_id']}")
    expect(page.get_by_label("Organization id")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(admin["email"])
    page.keyboard.press("Enter")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("banner").get_by_text(admin["email"])).to_be_visible()
    tab_to(page, "API keys")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    tab_to(page, "Create an API key")
    page.keyboard.press("Enter")  # opens the form
    tab_to(page, "Name")
    page.keyboard.type("Keyboard key")
    tab_to(page, "users:read")
    page.keyboard.press("Space")
    tab_to(page, "Create API key")
    page.keyboard.press("Enter")
    expect(page.locator("#client-secret")).to_be_visible()
    tab_to(page, "I have copied it")
    page.keyboard.press("Enter")
    expect(page.locator("#client-secret")).to_have_count(0)
    expect(page.get_by_role("cell", name="Keyboard key", exact=True)).to_be_visible()
    tab_to(page, "Sign out")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign out?")).to_be_visible()
    tab_to(page, "Sign out")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Organization id")).to_be_visible()


def test_the_keyboard_alone_creates_suspends_and_gives_a_role_and_reads_the_audit_log(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any]
) -> None:
    admin = new_user(local_api, tenant, "dash-keyboard@example.com", role="admin")
    sign_in(page, site, tenant["org_id"], admin["email"])
    # A user, created and suspended.
    tab_to(page, "Create a user")
    page.keyboard.press("Enter")
    tab_to(page, "Email")
    page.keyboard.type("keys@example.com")
    tab_to(page, "Name")
    page.keyboard.type("Keys")
    tab_to(page, "Password (optional)")
    page.keyboard.type("Keys-Pass-77")
    tab_to(page, "Create user")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="keys@example.com was created")).to_be_visible()
    # Activate through the API (a verified user): then suspend it from the keyboard.
    listed = requests.get(
        f"{local_api.url}/users",
        params={"org_id": tenant["org_id"], "search": "keys@"},
        headers=tenant["headers"],
        timeout=30,
    ).json()["data"]
    requests.post(
        f"{local_api.url}/users/{listed[0]['id']}/activate",
        params={"org_id": tenant["org_id"]},
        headers=tenant["headers"],
        timeout=30,
    )
    tab_to(page, "Search")
    page.keyboard.type("keys@")
    expect(page.get_by_role("cell", name="keys@example.com", exact=True)).to_be_visible()
    # A role until a date, from the user's panel.
    tab_to(page, "Keys")
    page.keyboard.press("Enter")
    tab_to(page, "Role to assign")
    page.keyboard.press("ArrowDown")  # the first role of the list
    tab_to(page, "Until (optional)")
    page.keyboard.type("05012031")
    page.keyboard.press("Tab")
    page.keyboard.type("1200P")
    tab_to(page, "Assign role")
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name=re.compile("^Keys")).get_by_role("status")).to_contain_text(
        "until 2031-05-01"
    )
    tab_to(page, "Suspend keys@example.com")
    page.keyboard.press("Enter")
    expect(page.get_by_role("row", name=re.compile("keys@example.com")).get_by_text("suspended")).to_be_visible()
    # The audit log, filtered by the user as target.
    tab_to(page, "Audit log")
    page.keyboard.press("Enter")
    tab_to(page, "Target id")
    page.keyboard.type(listed[0]["id"])
    for action in ("user.created", "user.deactivated", "role.assigned"):
        expect(page.get_by_role("cell", name=action, exact=True).first).to_be_visible()


def test_the_keyboard_alone_runs_a_webhook_and_a_csv_import(
    page: Page, local_api: LocalRuntime, site: str, tenant: dict[str, Any], receiver: Any
) -> None:
    admin = new_user(local_api, tenant, "dash-keys-hooks@example.com", role="admin")
    sign_in(page, site, tenant["org_id"], admin["email"])
    # A webhook whose delivery fails, then is redelivered.
    tab_to(page, "Webhooks")
    page.keyboard.press("Enter")
    tab_to(page, "Add an endpoint")
    page.keyboard.press("Enter")
    tab_to(page, "URL")
    page.keyboard.type(receiver.url)
    tab_to(page, "user.activated")
    page.keyboard.press("Space")
    tab_to(page, "Add endpoint")
    page.keyboard.press("Enter")
    expect(page.locator("#webhook-secret")).to_be_visible()
    tab_to(page, "I have copied it")
    page.keyboard.press("Enter")
    receiver.failing = True
    new_user(local_api, tenant, "keyboard-hooked@example.com")  # made active: user.activated
    failing = page.get_by_role("row").filter(has_text="user.activated").filter(has_text=re.compile(r"#1 500"))
    for _ in range(20):  # the keyboard's Refresh until the failure shows
        tab_to(page, "Refresh")
        page.keyboard.press("Enter")
        if failing.get_by_text("failed", exact=True).count():
            break
        page.wait_for_timeout(1000)
    expect(failing.get_by_text("failed", exact=True)).to_be_visible()
    event_id = failing.locator("code").first.inner_text()
    receiver.failing = False
    tab_to(page, f"Redeliver {event_id}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("row").filter(has_text=event_id).get_by_text("delivered", exact=True)).to_be_visible(
        timeout=20_000
    )
    # A csv import: the file is chosen from the keyboard too (the browser's file dialog).
    tab_to(page, "Jobs")
    page.keyboard.press("Enter")
    tab_to(page, "A csv file")
    upload: FilePayload = {"name": "u.csv", "mimeType": "text/csv", "buffer": b"email,name\nk1@jobs.example,K1\n"}
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(files=[upload])
    expect(page.locator("#job-progress")).to_have_attribute("value", "100", timeout=30_000)
