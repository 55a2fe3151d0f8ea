"""Shared fixtures: a clean environment, moto in-process with the template's own resources,
and one ``lambda_context``."""

from __future__ import annotations

import functools
import importlib
import json
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

import botocore.client
import botocore.loaders
import botocore.session
import botocore.signers
import pytest
from moto import mock_aws

from devserver import moto_patches
from devserver.template import Template
from tests.support import iam
from tests.support.api import InProcessApi
from tests.support.backend import REGION, FakeLambdaContext, provision, seed_platform
from tests.support.users import Tenant, new_tenant
from umapi import services
from umapi.aws import dynamodb_client
from umapi.bootstrap import AdminCredentials
from umapi.settings import Settings, get_settings

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


# ------------------------------------------------------------------ least privilege (support/iam.py)
IAM = iam.Recorder(Template.load(ROOT / "template.yaml"), REGION)
_make_api_call = getattr(botocore.client.BaseClient, "_make_api_call")  # noqa: B009 - private, patched below
_presign = botocore.signers.generate_presigned_url


def _checked_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
    IAM.call(client.meta.service_model.endpoint_prefix, operation, params)
    return _make_api_call(client, operation, params)


def _checked_presign(client: Any, ClientMethod: str, Params: Any = None, **kwargs: Any) -> Any:  # noqa: N803
    operation = client.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
    IAM.call(client.meta.service_model.endpoint_prefix, operation, dict(Params or {}))
    return _presign(client, ClientMethod, Params, **kwargs)


setattr(botocore.client.BaseClient, "_make_api_call", _checked_call)  # noqa: B010
setattr(botocore.signers, "generate_presigned_url", _checked_presign)  # noqa: B010
for _function_id, _function in IAM.template.resources_of_type("AWS::Serverless::Function").items():
    _module = importlib.import_module(".".join(Path(_function["Properties"]["CodeUri"]).parts) + ".handler")
    _module.lambda_handler = iam.wrap_handler(_function_id, _module.lambda_handler, services.reset)  # type: ignore[attr-defined]
iam.install_thread_context()


# Settings a function's code reads that have no usable default (a resource's name: "" until set).
REQUIRED_SETTINGS = {
    name: str(field.validation_alias) for name, field in Settings.model_fields.items() if field.default == ""
}
SETTINGS_READ: set[tuple[str, str]] = set()
_settings_attribute = Settings.__getattribute__


def _noted_read(self: Settings, name: str) -> Any:
    if name in REQUIRED_SETTINGS and (function_id := iam.current_function()) is not None:
        SETTINGS_READ.add((function_id, name))
    return _settings_attribute(self, name)


setattr(Settings, "__getattribute__", _noted_read)  # noqa: B010


@pytest.fixture(autouse=True)
def _least_privilege() -> Iterator[None]:
    """A test fails if a handler made an AWS call its function's policies do not allow."""
    IAM.refused.clear()
    yield
    refused = sorted(set(IAM.refused))
    IAM.refused.clear()
    assert not refused, "template.yaml does not allow: " + "; ".join(refused)


def _whole_run(config: pytest.Config) -> bool:
    """Every test was selected (no -k, -m or paths narrower than the test paths)."""
    default = {str((ROOT / path).resolve()) for path in config.getini("testpaths")}
    given = {str(Path(arg.split("::")[0]).resolve()) for arg in config.args}
    return not config.option.keyword and not config.option.markexpr and given <= default and given != set()


_used_by_workers: set[tuple[str, int, str, str]] = set()
_read_by_workers: set[tuple[str, str]] = set()


def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: a worker's used grants and read settings reach the controller."""
    _used_by_workers.update(tuple(item) for item in json.loads(node.workeroutput.get("iam_used", "[]")))
    _read_by_workers.update(tuple(item) for item in json.loads(node.workeroutput.get("settings_read", "[]")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run of every test fails on a grant of template.yaml that no call used."""
    if hasattr(session.config, "workeroutput"):  # an xdist worker: report to the controller
        session.config.workeroutput["iam_used"] = json.dumps(sorted(IAM.used))
        session.config.workeroutput["settings_read"] = json.dumps(sorted(SETTINGS_READ))
        return
    if not _whole_run(session.config):
        return
    problems = iam.unused(IAM.grants(), IAM.used | _used_by_workers | IAM.event_sources())
    problems += iam.unset_settings(IAM.template, SETTINGS_READ | _read_by_workers, REQUIRED_SETTINGS)
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "template.yaml: grants no test used, settings a function lacks", red=True)
            for problem in problems:
                reporter.write_line(problem)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
        attributes = provision(template)
        IAM.provisioned(attributes)
        yield attributes
        IAM.provisioned({})


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
