"""Shared fixtures: a clean environment, moto in-process with the template's own resources,
and one ``lambda_context``."""

from __future__ import annotations

import functools
import os

# Powertools reads these when a handler module is imported (as Lambda's environment has them
# before any import), so they are set before the tests import anything of ours.
os.environ.update(
    POWERTOOLS_SERVICE_NAME="tests",
    POWERTOOLS_METRICS_NAMESPACE="UserManagementApiTests",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_DISABLED="true",
)

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from moto import mock_aws

from devserver import moto_patches
from devserver.template import Template
from tests.support.api import InProcessApi
from tests.support.backend import REGION, FakeLambdaContext, provision, seed_platform
from tests.support.users import Tenant, new_tenant
from umapi import services
from umapi.aws import dynamodb_client
from umapi.bootstrap import AdminCredentials
from umapi.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
moto_patches.install()  # transactions that do not copy the whole table (see the module)


@functools.cache
def _shared_loader(data_path: str | None) -> botocore.loaders.Loader:
    return _create_loader(data_path)


# mock_aws() clears boto3's default session, so every test would build a new one and parse the
# service models (JSON, megabytes) again: one loader for the whole run serves them all, as a
# long-lived Lambda process's session does.
_create_loader = botocore.session.create_loader
botocore.session.create_loader = _shared_loader


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the same environment and re-reads settings and clients."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "TABLE_NAME": "Table",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    get_settings.cache_clear()
    services.reset()
    yield
    get_settings.cache_clear()
    services.reset()


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(scope="session")
def template() -> Template:
    return Template.load(ROOT / "template.yaml")


@pytest.fixture
def aws(template: Template) -> Iterator[dict[str, dict[str, Any]]]:
    """moto in-process holding template.yaml's tables, queues and secrets."""
    with mock_aws():
        yield provision(template)


@pytest.fixture
def platform(aws: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> AdminCredentials:
    return seed_platform(aws, monkeypatch)


@pytest.fixture
def api(template: Template, lambda_context: FakeLambdaContext) -> InProcessApi:
    """The API in-process: requests routed to handlers by template.yaml's routes."""
    return InProcessApi(lambda_context, template)


@pytest.fixture
def acme(api: InProcessApi, platform: AdminCredentials) -> Tenant:
    """An organization with a client holding every permission in it."""
    return new_tenant(api, platform, "Acme")


@pytest.fixture
def globex(api: InProcessApi, platform: AdminCredentials) -> Tenant:
    """Another organization, for cross-tenant checks."""
    return new_tenant(api, platform, "Globex")


@pytest.fixture
def dynamodb_calls() -> Iterator[list[str]]:
    """Names of the DynamoDB operations the handlers make (botocore event hook on their client)."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", record)
    yield calls
    events.unregister("before-call.dynamodb", record)
