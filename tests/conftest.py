"""Shared fixtures: a clean environment, moto in-process with the template's own resources,
and one ``lambda_context``."""

from __future__ import annotations

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devserver.backend import Provisioner
from devserver.template import Intrinsics, Template
from tests.support.api import InProcessApi
from umapi import dependencies
from umapi.auth.signing import KeyRingStore
from umapi.bootstrap import AdminCredentials, create_platform_admin
from umapi.clients.repository import ClientRepository
from umapi.orgs.repository import OrgRepository
from umapi.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"


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
    dependencies.reset()
    yield
    get_settings.cache_clear()
    dependencies.reset()


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(scope="session")
def template() -> Template:
    return Template.load(ROOT / "template.yaml")


@pytest.fixture
def aws(template: Template) -> Iterator[dict[str, dict[str, Any]]]:
    """moto in-process holding template.yaml's tables and queues; yields their Ref/GetAtt values."""
    with mock_aws():
        intrinsics = Intrinsics(REGION, "tests", template.parameter_defaults())
        in_process = boto3.session.Session(region_name=REGION)
        Provisioner(in_process.client).provision(template, intrinsics)
        yield intrinsics.attributes


@pytest.fixture
def platform(aws: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> AdminCredentials:
    """What the bootstrap command leaves behind: a signing key and a platform-admin client."""
    monkeypatch.setenv("SIGNING_KEYS_SECRET", aws["SigningKeysSecret"]["Ref"])
    monkeypatch.setenv("CURSOR_SECRET", aws["CursorSecret"]["Ref"])
    get_settings.cache_clear()
    dependencies.reset()
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    KeyRingStore(
        boto3.client("secretsmanager", region_name=REGION), aws["SigningKeysSecret"]["Ref"], dynamodb, "Table"
    ).ensure()
    return create_platform_admin(OrgRepository(dynamodb, "Table"), ClientRepository(dynamodb, "Table"))


@pytest.fixture
def api(template: Template, lambda_context: FakeLambdaContext) -> InProcessApi:
    """The API in-process: requests routed to handlers by template.yaml's routes."""
    return InProcessApi(lambda_context, template)
