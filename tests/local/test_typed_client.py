"""A client generated from openapi.json (openapi-python-client) is typed, and reads what the
local runtime answers: users, pages of users, audit entries, tokens and bulk results as models."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devserver.runtime import LocalRuntime
from tests.support.http import admin_headers, client_token, new_client, new_org
from umapi.access.permissions import PERMISSIONS

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "umapi_typed_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("client")
    tool = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(  # noqa: S603 - our virtualenv's generator, fixed arguments
        [
            str(tool),
            "generate",
            *("--path", str(ROOT / "openapi.json")),
            *("--meta", "none"),
            *("--output-path", str(out / PACKAGE)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ['PATH']}"},  # its ruff formats
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    yield importlib.import_module(PACKAGE)
    sys.path.remove(str(out))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def operation(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.default.{name}")


def returns(name: str) -> str:
    """The names in what an operation's ``sync`` is annotated to return."""
    return str(operation(name).sync.__annotations__["return"])


def test_operations_return_models_not_dicts(generated: ModuleType) -> None:
    expected = {
        "list_users_users_get": "PageUserView",
        "get_user_users_user_id_get": "UserView",
        "get_me_users_me_get": "UserView",
        "list_audit_log_audit_log_get": "PageAuditEntryResponse",
        "list_events_webhooks_events_get": "PageEventResponse",
        "get_event_webhooks_events_event_id_get": "EventResponse",
        "post_token_auth_token_post": "TokenResponse",
        "bulk_create_users_users_bulk_post": "BulkCreateResult",
    }
    for name, model in expected.items():
        assert model in returns(name), (name, returns(name))
    models = importlib.import_module(f"{PACKAGE}.models")
    assert {"email", "status", "roles", "metadata"} <= set(models.UserView.__annotations__)
    assert {"action", "actor", "target", "changes"} <= set(models.AuditEntryResponse.__annotations__)
    assert {"status", "delivery_attempts", "next_retry_at"} <= set(models.EventResponse.__annotations__)


def test_the_typed_client_reads_real_answers(generated: ModuleType, local_api: LocalRuntime) -> None:
    headers = admin_headers(local_api)
    org = new_org(local_api, headers, "Typed")
    created = new_client(local_api, headers, org, name="typed", scopes=list(PERMISSIONS))
    client = generated.AuthenticatedClient(
        base_url=local_api.url, token=client_token(local_api.url, created["id"], created["client_secret"])
    )
    models = importlib.import_module(f"{PACKAGE}.models")

    bulk = operation("bulk_create_users_users_bulk_post").sync(
        client=client,
        body=models.BulkCreateRequest.from_dict(
            {"users": [{"email": "t1@example.com", "name": "T One"}, {"email": "bad", "name": "T Two"}]}
        ),
    )
    assert isinstance(bulk, models.BulkCreateResult)
    assert (bulk.successful, bulk.failed) == (1, 1)
    user_id = bulk.results[0].user.id

    page = operation("list_users_users_get").sync(client=client, include="roles")
    assert isinstance(page, models.PageUserView)
    assert [user.email for user in page.data] == ["t1@example.com"]

    one = operation("get_user_users_user_id_get").sync(user_id, client=client)
    assert isinstance(one, models.UserView)
    assert one.name == "T One"

    audit = operation("list_audit_log_audit_log_get").sync(client=client)
    assert isinstance(audit, models.PageAuditEntryResponse)
    assert "user.created" in [entry.action for entry in audit.data]
