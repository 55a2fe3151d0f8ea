"""The local runtime: moto + worker processes + SAM's local API Gateway + event-source pollers."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.lib.utils.stream_writer import StreamWriter
from werkzeug.serving import BaseWSGIServer, make_server

from devserver.apigw import LocalApi
from devserver.backend import MotoBackend
from devserver.pollers import FunctionFailedError, QueuePoller, StreamPoller, poller_for
from devserver.template import Intrinsics, Template, event_source_mappings
from devserver.worker_main import FunctionSpec
from devserver.workers import InvocationError, WorkerRuntime
from umapi.auth.signing import KeyRingStore
from umapi.bootstrap import AdminCredentials, create_platform_admin
from umapi.clients.repository import ClientRepository
from umapi.orgs.repository import OrgRepository

LOG = logging.getLogger(__name__)

# A fixed, ULID-shaped default so a developer's scripts survive restarts; the secret is new each start.
DEFAULT_ADMIN_CLIENT_ID = "cli_000000000000000000000ADM1N"

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}
# Local-only defaults every function gets: no X-Ray daemon and no CloudWatch here.
LOCAL_FUNCTION_DEFAULTS = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
# Settings a developer may set in the shell (README, docs/api.md §9), with their local defaults
# where those differ from a deployment's. Only these pass through: the rest of the shell
# (e.g. a test process's TABLE_NAME) never reaches the functions.
SHELL_SETTINGS = (
    "RATE_LIMIT_PER_MINUTE",
    "MAIL_FROM",
    "VERIFICATION_URL",
    "REFRESH_REUSE_GRACE_SECONDS",
    "WEBHOOK_RETRY_DELAYS",
    "WEBHOOK_ALLOW_LOOPBACK",
    "POWERTOOLS_LOG_LEVEL",
)
LOCAL_SETTING_DEFAULTS = {"WEBHOOK_ALLOW_LOOPBACK": "true"}


def seed(backend: MotoBackend, template: Template, intrinsics: Intrinsics) -> AdminCredentials | None:
    """What a deployed stack gets from the bootstrap command: a signing key, a platform-admin
    client (``LOCAL_ADMIN_CLIENT_ID`` / ``LOCAL_ADMIN_CLIENT_SECRET``), and a verified sender."""
    attributes = intrinsics.attributes
    if "Table" not in attributes or "SigningKeysSecret" not in attributes:
        return None  # not the product's template
    table, dynamodb = attributes["Table"]["Ref"], backend.client("dynamodb")
    sender = os.environ.get("MAIL_FROM") or template.parameter_defaults().get("MailFrom")
    if sender:
        backend.client("ses").verify_email_identity(EmailAddress=sender)
    KeyRingStore(backend.client("secretsmanager"), attributes["SigningKeysSecret"]["Ref"], dynamodb, table).ensure()
    return create_platform_admin(
        OrgRepository(dynamodb, table),
        ClientRepository(dynamodb, table),
        client_id=os.environ.get("LOCAL_ADMIN_CLIENT_ID") or DEFAULT_ADMIN_CLIENT_ID,
        client_secret=os.environ.get("LOCAL_ADMIN_CLIENT_SECRET") or None,
    )


@dataclass
class LocalRuntimeConfig:
    template_path: Path
    host: str = "127.0.0.1"
    port: int = 3000
    region: str = "us-east-1"
    stack_name: str = "user-management-api-local"
    max_workers_per_function: int = 10
    warm: bool = True


class LocalRuntime:
    """Start with ``start()``, stop with ``stop()``; ``url`` is the API root."""

    def __init__(self, config: LocalRuntimeConfig) -> None:
        self.config = config
        self.template = Template.load(config.template_path)
        self.root = self.template.path.parent
        self.backend = MotoBackend(config.region)
        self.intrinsics = Intrinsics(config.region, config.stack_name, self.template.parameter_defaults())
        self.workers = WorkerRuntime(self._spec_for, config.max_workers_per_function)
        self._server: BaseWSGIServer | None = None
        self._server_thread: threading.Thread | None = None
        self._pollers: list[StreamPoller | QueuePoller] = []
        self._stopping = threading.Event()
        self.routes: list[Any] = []
        self.url = ""
        self.admin: AdminCredentials | None = None

    # ------------------------------------------------------------------ start/stop
    def start(self) -> None:
        # werkzeug logs a line per request, and every AWS call is a request to moto's server: a
        # runtime nobody configured logging for (the tests) keeps them off, as `make dev` does
        # unless --verbose.
        access_log = logging.getLogger("werkzeug")
        if access_log.level == logging.NOTSET:
            access_log.setLevel(logging.WARNING)
        os.environ.update(LOCAL_CREDENTIALS)
        os.environ.setdefault("AWS_DEFAULT_REGION", self.config.region)
        self.backend.start()
        self.backend.provision(self.template, self.intrinsics)
        self.admin = self._seed()

        stacks, _ = SamLocalStackProvider.get_stacks(str(self.template.path))
        self._functions = SamFunctionProvider(stacks, use_raw_codeuri=True)
        self.runner = LocalLambdaRunner(
            local_runtime=self.workers,
            function_provider=self._functions,
            cwd=str(self.root),
            real_path=str(self.root),
            aws_region=self.config.region,
            env_vars_values=self._environment_overrides(),
        )
        # Every function's environment is fixed now, as a deployment fixes it, not at first invocation.
        self._specs = {
            function.full_path: self._make_spec(self.runner.get_invoke_config(function))
            for function in self._functions.get_all()
        }
        api = ApiProvider(stacks, cwd=str(self.root)).api
        self.routes = list(api.routes)
        service = LocalApi(api=api, lambda_runner=self.runner, port=self.config.port, host=self.config.host)
        service.create()
        service.add_local_routes(self.config.region)
        self._server = make_server(self.config.host, self.config.port, service.flask_app, threaded=True)
        self.url = f"http://{self.config.host}:{self._server.server_port}"
        self._server_thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)
        self._server_thread.start()

        for mapping in event_source_mappings(self.template, self.intrinsics):
            poller = poller_for(mapping, self.backend.client, self.invoke, self.config.region)
            poller.start()
            self._pollers.append(poller)
        if self.config.warm:
            threading.Thread(target=self._warm, name="warm-up", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        for poller in self._pollers:  # all at once: each may be inside a long poll of up to 1 s
            poller.signal_stop()
        for poller in self._pollers:
            poller.stop()
        if self._server is not None:
            self._server.shutdown()
        self.workers.stop()
        self.backend.stop()

    def serve_forever(self) -> None:
        try:
            while self._server_thread is not None and self._server_thread.is_alive():
                self._server_thread.join(timeout=0.5)
        except KeyboardInterrupt:
            print("\nStopping…", file=sys.stderr)
        finally:
            self.stop()

    def _seed(self) -> AdminCredentials | None:
        return seed(self.backend, self.template, self.intrinsics)

    # ------------------------------------------------------------------ functions
    def invoke(self, function_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """Invoke a function with ``event`` the way an event-source mapping does."""
        stdout = StringIO()
        self.runner.invoke(function_id, json.dumps(event), stdout=StreamWriter(stdout))
        answer = json.loads(stdout.getvalue() or "null")
        if isinstance(answer, dict) and "errorType" in answer and "errorMessage" in answer:
            raise FunctionFailedError(f"{function_id}: {answer['errorType']}: {answer['errorMessage']}")
        return answer if isinstance(answer, dict) else None

    def _environment_overrides(self) -> dict[str, dict[str, str]]:
        """Per function (SAM's ``--env-vars`` shape): intrinsic values resolved against moto, and moto's URL."""
        overrides: dict[str, dict[str, str]] = {}
        for function_id in self.template.resources_of_type("AWS::Serverless::Function"):
            values: dict[str, str] = {}
            for name, raw in self.template.function_environment(function_id).items():
                if name in SHELL_SETTINGS and name in os.environ:
                    values[name] = os.environ[name]
                elif name in LOCAL_SETTING_DEFAULTS:
                    values[name] = LOCAL_SETTING_DEFAULTS[name]
                elif isinstance(raw, dict) and self.intrinsics.resolvable(raw):
                    values[name] = str(self.intrinsics.resolve(raw))
            values["AWS_ENDPOINT_URL"] = self.backend.endpoint_url
            overrides[function_id] = values
        return overrides

    def _spec_for(self, function_config: Any) -> FunctionSpec:
        return self._specs[function_config.full_path]

    def _make_spec(self, function_config: Any) -> FunctionSpec:
        base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TZ") if key in os.environ}
        layer_dirs = tuple(str((self.root / layer.codeuri).resolve()) for layer in function_config.layers)
        return FunctionSpec(
            name=function_config.name,
            handler=function_config.handler,
            code_dir=str(Path(function_config.code_abs_path).resolve()),
            layer_dirs=layer_dirs,
            environment={**base, **LOCAL_FUNCTION_DEFAULTS, **function_config.env_vars.resolve()},
            timeout_seconds=int(function_config.timeout or 3),
            memory_mb=int(function_config.memory or 128),
        )

    def _warm(self) -> None:
        """Start one worker per function in the background, so first requests skip the cold start."""
        started = time.perf_counter()
        functions = list(self._functions.get_all())
        for function in functions:
            if self._stopping.is_set():
                return
            try:
                self.workers.pool(self.runner.get_invoke_config(function)).warm()
            except InvocationError as exc:
                if self._stopping.is_set():  # stopped while warming: the workers were ended on purpose
                    return
                LOG.error("could not start %s: %s", function.name, exc)
        LOG.info("warmed %d functions in %.1f s", len(functions), time.perf_counter() - started)
