"""The domain's records (NamedTuples): one that holds a secret never shows it in its repr (what
a log line or a traceback would print)."""

from __future__ import annotations

from umapi.clients.entities import Client
from umapi.users.entities import User
from umapi.webhooks.entities import Webhook


def test_a_user_never_shows_its_password_hash() -> None:
    user = User(
        "usr_1", "org_1", "ada@example.com", "Ada", "active", True, "t0", "t0", password_hash="$argon2id$SECRET"
    )
    assert "SECRET" not in repr(user)
    assert "usr_1" in repr(user)


def test_a_client_never_shows_its_secret_hash() -> None:
    client = Client("cli_1", "org_1", "app", [], [], [], False, None, "t0", "t0", secret_hash="$argon2id$SECRET")
    assert "SECRET" not in repr(client)
    assert "cli_1" in repr(client)


def test_a_webhook_never_shows_its_secrets() -> None:
    webhook = Webhook(
        "whk_1",
        "org_1",
        "https://example.com/hook",
        ("user.created",),
        True,
        "whsec_NOW",
        "t0",
        "t0",
        previous_secret="whsec_BEFORE",
    )
    assert "whsec_" not in repr(webhook)
    assert "whk_1" in repr(webhook)
