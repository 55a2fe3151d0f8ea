#!/usr/bin/env python3
"""Measure what the API costs: cold imports, warm latency and our overhead over DynamoDB, the
DynamoDB calls of each endpoint, what listings read as organizations grow, webhook deliveries
per second, and a 10,000-row job's import and export on the local runtime. Prints tables and
writes bench/results.json (``make bench``; not part of the test run).

Targets: cold import <= 2.0x a bare ``import boto3`` for every function that does not load
PyJWT's RS256 at start; the one that must (the token function) <= 1.05x the mandated stack with
PyJWT (what the Powertools cookbook starts, plus PyJWT, which alone is about 2x boto3); the
sign-in function <= 1.10x the mandated stack; all started as Lambda starts them; warm overhead
ratio <= 1.25 on every endpoint (a request's time / the time spent inside its own DynamoDB
calls, botocore and moto); zero Scans; every listing's calls and items
read flat from 100 to 10,000 users (one row, a rare filter under another sort, is bounded by
the read budget instead). Every measurement is interleaved: rounds take each variant once, and
ratios are medians of per-round (per-request) ratios, so load drift on the machine moves both
sides of a ratio alike. The ratios travel between machines; the milliseconds do not.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]
os.environ.update(
    POWERTOOLS_SERVICE_NAME="bench",
    POWERTOOLS_METRICS_NAMESPACE="UserManagementApiBench",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_LOG_LEVEL="ERROR",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - moto's fake credentials
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    TABLE_NAME="Table",
    WEBHOOK_ALLOW_LOOPBACK="true",
    WEBHOOK_RETRY_DELAYS="0",
)

TARGET_IMPORT_RATIO = 2.0  # x a bare import boto3, for a function that does not load PyJWT
TARGET_STACK_RATIO = 1.05  # x the mandated stack + PyJWT, for a function that loads it
STACK_TARGETS = {"SignInFunction": 1.10}  # x the mandated stack: people's pages, apart from tokens
TARGET_OVERHEAD_RATIO = 1.25
SCALE_SIZES = (100, 1000, 10000)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- cold imports
LAYER_REQUIREMENTS = ROOT / "layers" / "core" / "python" / "requirements.txt"


def lambda_site() -> Path:
    """The CoreLayer's packages alone (boto3 included), as a deployed function sees them.

    The dev virtualenv also holds the test and build tools (awscrt, pyOpenSSL, ...), which
    botocore picks up when present and which would slow ``import boto3`` and our imports
    alike; measuring there would flatter the ratio. Installed once per requirements file.
    """
    digest = hashlib.sha256(LAYER_REQUIREMENTS.read_bytes()).hexdigest()[:12]
    site = ROOT / "bench" / ".lambda-site" / digest
    if not (site / ".complete").exists():
        log(f"cold import: installing the layer's requirements into {site.relative_to(ROOT)} (once)")
        shutil.rmtree(site, ignore_errors=True)
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--target", str(site), "-r", str(LAYER_REQUIREMENTS)], check=True)  # noqa: S603
        (site / ".complete").touch()
    return site


# How deep in the call stack an import runs changes what it costs. CPython (3.11 and later)
# keeps Python frames in 16 KiB chunks that it maps when a call needs a new one and unmaps as
# soon as that call returns, so a recursion that runs across a chunk's edge (the regex parser,
# compiling botocore's and urllib3's patterns at import) maps and unmaps a chunk per call:
# ``strace`` counted from 50 to 5,000 mmap/munmap pairs for one and the same ``import`` as the
# depth it started at moved by a few frames, the bare stack included. Lambda's bootstrap sets
# that depth, not us, so a measurement at one depth is a draw: the rounds spread the start over
# more than one chunk's worth of depths (each frame of ``start`` takes a dozen or more of a
# chunk's 2,048 slots), and every variant of a round starts at the same depth.
DEPTHS = 150


def _timed_import(code: str, env: dict[str, str], cwd: Path, depth: int = 0) -> tuple[float, bool]:
    """Seconds ``code`` takes in a fresh interpreter without site-packages (``-S``): only
    PYTHONPATH, as in the Lambda runtime; started ``depth`` frames down; and whether it
    imported PyJWT."""
    program = (
        "import sys, time\n"
        "def start(depth):\n"
        "    if depth:\n"
        "        return start(depth - 1)\n"
        "    started = time.perf_counter()\n"
        f"    {code}\n"
        "    return time.perf_counter() - started\n"
        f"print(start({depth}), 'jwt' in sys.modules)"
    )
    out = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-S", "-X", "frozen_modules=on", "-c", program],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, jwt = out.stdout.strip().splitlines()[-1].split()
    return float(seconds), jwt == "True"


# The mandated stack as the Powertools cookbook starts a function: a validating REST resolver,
# Logger, Tracer and Metrics, a pydantic model and boto3 (clients built on the first request,
# as ours are). A function can hardly start faster than this; PyJWT is added for the
# functions that import it.
# The baselines start as in a runtime without pyOpenSSL: the layer ships it only for passkeys,
# and our functions keep botocore off it (umapi.startup); with it, botocore would import it at
# every start, some 80 ms the baselines would carry and the functions would not.
WITHOUT_PYOPENSSL = 'import sys; sys.modules.setdefault("urllib3.contrib.pyopenssl", None)\n'
STACK = (
    WITHOUT_PYOPENSSL
    + """
import boto3
import pydantic
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

logger, tracer, metrics = Logger(), Tracer(), Metrics()
app = APIGatewayRestResolver(enable_validation=True)


class Thing(pydantic.BaseModel):
    id: str


@app.get("/things/<thing_id>")
@tracer.capture_method
def get_thing(thing_id: str) -> Thing:
    return Thing(id=thing_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return app.resolve(event, context)
"""
)
STACK_WITH_JWT = STACK.replace("\nimport boto3", "\nimport jwt\nimport boto3", 1)


def cold_imports(rounds: int) -> dict[str, Any]:
    """Each function's ``import handler`` as Lambda starts it: the layer's packages only, the
    template's environment (tracing on), and Lambda's own variables (with ``LAMBDA_TASK_ROOT``
    set the X-Ray SDK samples locally instead of building a boto3 X-Ray client).

    Interleaved: every round starts a bare ``import boto3``, the mandated stack (with and
    without PyJWT) and each function once, all at the round's call depth (``DEPTHS``), so a
    load change on the machine moves a round's baseline and its functions alike. Ratios are
    per round, then the median over rounds."""
    from devserver.template import Template

    template = Template.load(ROOT / "template.yaml")
    site = lambda_site()
    layer = str(ROOT / "layers" / "core" / "python")
    runtime_env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    # The stack starts as a function would: a handler module of its own (compiled once, like
    # ours), the Globals' environment (tracing on) and Lambda's variables.
    stack_root = site.parent / "stack"
    globals_vars = template.body.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    globals_env = {k: v for k, v in globals_vars.items() if isinstance(v, str)}
    starts: dict[str, tuple[str, dict[str, str], Path]] = {
        "boto3": (WITHOUT_PYOPENSSL.strip() + "; import boto3", {**runtime_env, "PYTHONPATH": str(site)}, ROOT)
    }
    for name, code in (("stack", STACK), ("stack+jwt", STACK_WITH_JWT)):
        code_dir = stack_root / name.replace("+", "_")
        code_dir.mkdir(parents=True, exist_ok=True)
        (code_dir / "handler.py").write_text(code)
        env = {
            **runtime_env,
            **globals_env,
            "LAMBDA_TASK_ROOT": str(code_dir),
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "PYTHONPATH": os.pathsep.join([str(code_dir), str(site)]),
        }
        starts[name] = ("import handler", env, code_dir)
    for function_id, resource in template.resources_of_type("AWS::Serverless::Function").items():
        code_dir = ROOT / resource["Properties"]["CodeUri"]
        configured = {k: v for k, v in template.function_environment(function_id).items() if isinstance(v, str)}
        env = {
            **runtime_env,
            **configured,
            "LAMBDA_TASK_ROOT": str(code_dir),
            "AWS_LAMBDA_FUNCTION_NAME": function_id,
            "PYTHONPATH": os.pathsep.join([str(code_dir), layer, str(site)]),
        }
        starts[function_id] = ("import handler", env, code_dir)
    samples: dict[str, list[float]] = {name: [] for name in starts}
    uses_jwt: dict[str, bool] = {}
    for round_number in range(rounds):
        depth = round_number * DEPTHS // rounds
        for name, (code, env, cwd) in starts.items():
            seconds, jwt = _timed_import(code, env, cwd, depth)
            samples[name].append(seconds)
            uses_jwt[name] = jwt
        log(f"cold import: round {round_number + 1}/{rounds}")

    def ratio(name: str, baseline: str) -> float:
        return round(statistics.median(a / b for a, b in zip(samples[name], samples[baseline], strict=True)), 2)

    def median_ms(name: str) -> float:
        return round(statistics.median(samples[name]) * 1000, 1)

    functions = {}
    for name in list(starts)[3:]:
        stack = "stack+jwt" if uses_jwt[name] else "stack"
        functions[name] = {
            "median_ms": median_ms(name),
            "ratio_to_boto3": ratio(name, "boto3"),
            "compared_with": stack,
            "ratio_to_stack": ratio(name, stack),
        }
        log(
            f"cold import: {name} {median_ms(name):.0f} ms = {functions[name]['ratio_to_boto3']:.2f}x boto3, "
            f"{functions[name]['ratio_to_stack']:.2f}x {stack}"
        )
    return {
        "rounds": rounds,
        "start_depths": f"0-{DEPTHS - 1} frames, one per round, the same for every variant",
        "boto3_median_ms": median_ms("boto3"),
        "stack": {"median_ms": median_ms("stack"), "ratio_to_boto3": ratio("stack", "boto3")},
        "stack+jwt": {"median_ms": median_ms("stack+jwt"), "ratio_to_boto3": ratio("stack+jwt", "boto3")},
        "functions": functions,
    }


# --------------------------------------------------------------------------- warm endpoints
class CallRecorder:
    """Every DynamoDB call the handlers make, and the time spent inside them (botocore and moto),
    measured where they happen: replaying a request's calls afterwards would not cost the same
    (a create replayed finds its item there and is cancelled, which is cheaper than the write)."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        self.seconds = 0.0
        self._started = 0.0
        client.meta.events.register("provide-client-params.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)
        self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._started

    def take(self) -> tuple[list[str], float]:
        taken = (self.operations, self.seconds)
        self.operations, self.seconds = [], 0.0
        return taken


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def warm_endpoints(requests: int) -> dict[str, Any]:
    from moto import mock_aws

    from devserver import moto_patches

    moto_patches.install()  # as the local runtime runs it

    with mock_aws():
        return _warm_endpoints(requests)


def _world(name: str) -> tuple[Any, Any, Any, Any]:
    """In the active moto mock: the template's resources, the bootstrap, an organization with a
    client holding every permission, and the API in-process: ``(api, platform, tenant, patch)``."""
    import pytest

    from devserver.template import Template
    from tests.support.api import InProcessApi
    from tests.support.backend import FakeLambdaContext, provision, seed_platform
    from tests.support.users import new_tenant

    template = Template.load(ROOT / "template.yaml")
    patch = pytest.MonkeyPatch()
    platform = seed_platform(provision(template), patch)
    api = InProcessApi(FakeLambdaContext(), template)
    return api, platform, new_tenant(api, platform, name), patch


def _warm_endpoints(requests: int) -> dict[str, Any]:
    from umapi.aws import dynamodb_client

    api, platform, tenant, patch = _world("Bench")
    token = tenant.access
    client = dynamodb_client()
    recorder = CallRecorder(client)
    user = tenant.user("bench-user@example.com", send_welcome_email=False)
    api.post(f"/users/{user['id']}/activate", token=token)
    role = api.post("/roles", token=token, json_body={"name": "Bench", "permissions": ["users:read"]}).json()
    api.post("/webhooks", token=token, json_body={"url": "https://hooks.example.com/x", "events": ["user.created"]})
    counter = iter(range(10**9))

    def assign() -> Any:
        return api.post(f"/users/{user['id']}/roles", token=token, json_body={"role_id": role["id"]})

    endpoints: dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]] = {
        "GET /health": (lambda: api.get("/health"), None),
        "POST /auth/token": (
            lambda: api.post(
                "/auth/token",
                form={"grant_type": "client_credentials"},
                basic=(platform.client_id, platform.client_secret),
            ),
            None,
        ),
        "GET /users/{id}": (lambda: api.get(f"/users/{user['id']}", token=token), None),
        "GET /users": (lambda: api.get("/users", token=token, query={"limit": "25"}), None),
        "POST /users": (
            lambda: api.post(
                "/users",
                token=token,
                json_body={"email": f"bench{next(counter)}@example.com", "name": "Bench", "send_welcome_email": False},
            ),
            None,
        ),
        "PATCH /users/{id}": (
            lambda: api.patch(f"/users/{user['id']}", token=token, json_body={"department": f"d{next(counter)}"}),
            None,
        ),
        "GET /roles": (lambda: api.get("/roles", token=token), None),
        "POST /users/{id}/roles": (
            assign,
            lambda: api.delete(f"/users/{user['id']}/roles/{role['id']}", token=token),
        ),
        "GET /webhooks/events": (lambda: api.get("/webhooks/events", token=token), None),
        "GET /audit-log": (lambda: api.get("/audit-log", token=token), None),
    }
    results: dict[str, Any] = {}
    for call, undo in endpoints.values():
        for _ in range(5):  # warm the container and moto's code paths
            call()
            if undo:
                undo()
    ours: dict[str, list[float]] = {name: [] for name in endpoints}
    theirs: dict[str, list[float]] = {name: [] for name in endpoints}
    operations: dict[str, list[str]] = {}
    for _ in range(requests):  # interleaved: each round sends every endpoint once
        for name, (call, undo) in endpoints.items():
            recorder.take()
            response = call()
            ours[name].append(api.handler_seconds)  # the Lambda's duration: not the harness building the event
            operations[name], dynamodb_seconds = recorder.take()
            theirs[name].append(dynamodb_seconds)
            if undo:
                undo()
                recorder.take()
            assert response.status < 400, f"{name}: {response.status} {response.body[:200]}"
    for name in endpoints:
        p50, p99 = _percentile(ours[name], 0.5), _percentile(ours[name], 0.99)
        dynamodb_p50 = _percentile(theirs[name], 0.5)
        ratios = [a / b for a, b in zip(ours[name], theirs[name], strict=True) if b]
        calls = operations[name]
        results[name] = {
            "p50_ms": round(p50 * 1000, 2),
            "p99_ms": round(p99 * 1000, 2),
            "dynamodb_p50_ms": round(dynamodb_p50 * 1000, 2),
            "overhead_ratio": round(statistics.median(ratios), 2) if ratios else None,
            "dynamodb_calls": len(calls),
            "operations": calls,
            "scans": calls.count("Scan"),
        }
        log(
            f"warm: {name:<24} p50 {p50 * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms  "
            f"DynamoDB {dynamodb_p50 * 1000:6.2f} ms  x{results[name]['overhead_ratio']}  calls {len(calls)}"
        )
    patch.undo()
    return results


# --------------------------------------------------------------------------- the dashboard's first load
DASHBOARD_LOADS = 15
DASHBOARD_JS_BUDGET = 150 * 1024  # bytes of JavaScript, gzip
DASHBOARD_READY_BUDGET_MS = 1000


def dashboard_load(loads: int = DASHBOARD_LOADS) -> dict[str, Any]:
    """The dashboard's first load in headless Chromium on the local runtime, each in a fresh
    browser context (nothing cached): when its first page can be used (the app's
    ``dashboard-ready`` performance mark, after its check for a session), and the bytes of
    JavaScript it loads, gzip (as API Gateway or a CDN would send them)."""
    import gzip

    from playwright.sync_api import sync_playwright

    from devserver.runtime import LocalRuntime, LocalRuntimeConfig
    from tests.browser.conftest import chromium_path

    site = ROOT / "functions" / "dashboard" / "site"
    if not (site / "index.html").is_file():
        raise SystemExit("the dashboard is not built: make install builds it")
    js = sum(len(gzip.compress(path.read_bytes())) for path in site.glob("*.js"))
    runtime = LocalRuntime(LocalRuntimeConfig(template_path=ROOT / "template.yaml", port=0))
    runtime.start()
    ready: list[float] = []
    try:
        url = runtime.url.replace("127.0.0.1", "localhost") + "/dashboard"
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
            for _ in range(loads):
                context = browser.new_context()
                page = context.new_page()
                page.goto(url)
                # Polled through the devtools protocol: the page's CSP forbids wait_for_function's eval.
                mark = None
                deadline = time.monotonic() + 30
                while mark is None and time.monotonic() < deadline:
                    mark = page.evaluate("performance.getEntriesByName('dashboard-ready')[0]?.startTime ?? null")
                    if mark is None:
                        time.sleep(0.01)
                if mark is None:
                    raise SystemExit("the dashboard never became ready")
                ready.append(mark)
                context.close()
            browser.close()
    finally:
        runtime.stop()
    result = {
        "loads": loads,
        "js_gzip_bytes": js,
        "ready_ms_p50": round(statistics.median(ready), 1),
        "ready_ms_max": round(max(ready), 1),
    }
    log(f"dashboard: {js} bytes of JavaScript (gzip), ready in {result['ready_ms_p50']} ms (p50)")
    return result


# --------------------------------------------------------------------------- MFA sign-in
MFA_SIGN_INS = 8
MFA_STEP_BUDGET = 10  # DynamoDB calls of one step of an MFA sign-in, at most


def mfa_sign_in(sign_ins: int = MFA_SIGN_INS) -> dict[str, Any]:
    """Sign-ins with a password and a second factor, in-process: the DynamoDB calls of the
    password step (which starts the second step) and of the second step (which issues the code),
    the same whatever the user's history, and their time. The first two answer with TOTP codes
    (this step's and the next: a code is accepted once), the others with recovery codes."""
    from moto import mock_aws

    with mock_aws():
        return _mfa_sign_in(sign_ins)


def _mfa_sign_in(sign_ins: int) -> dict[str, Any]:
    import pyotp

    from tests.support.authenticator import clear_of_a_step_boundary
    from tests.support.login import code_from, exchange, login_world, sign_in
    from umapi.aws import dynamodb_client

    api, platform, _, patch = _world("MFA")
    world = login_world(api, platform)
    access = exchange(world, world.web, code_from(sign_in(world, world.web))).json()["access_token"]
    enrolment = api.post("/users/me/mfa/totp", token=access).json()
    totp = pyotp.TOTP(enrolment["secret"])
    path = f"/users/me/mfa/totp/{enrolment['factor_id']}/confirm"
    clear_of_a_step_boundary(10)
    confirmed = api.post(path, token=access, json_body={"code": totp.at(time.time() - 30)})
    assert confirmed.status == 200
    answers = [totp.now(), totp.at(time.time() + 30), *confirmed.json()["recovery_codes"]][:sign_ins]
    recorder = CallRecorder(dynamodb_client())
    first: list[list[str]] = []
    second: list[list[str]] = []
    seconds: dict[str, list[float]] = {"password": [], "second": []}
    for answer in answers:
        recorder.take()
        started = time.perf_counter()
        page = sign_in(world, world.web, prompt="login")
        seconds["password"].append(time.perf_counter() - started)
        assert page.status == 200, page.body[:300]
        first.append(recorder.take()[0][1:])  # the form's GET made none; the post's calls
        attempt = next(c for c in page.all_headers("Set-Cookie") if c.startswith("umapi_mfa=")).split(";", 1)[0]
        started = time.perf_counter()
        done = api.post("/oauth/authorize", form={"step": "second-factor", "otp": answer}, headers={"Cookie": attempt})
        seconds["second"].append(time.perf_counter() - started)
        assert done.status == 302, done.body[:300]
        second.append(recorder.take()[0])
    patch.undo()
    result = {
        "sign_ins": sign_ins,
        "password_step_calls": max(len(c) for c in first),
        "second_step_calls": max(len(c) for c in second),
        "password_step_operations": first[-1],
        "second_step_operations": second[-1],
        "password_step_ms_p50": round(statistics.median(seconds["password"]) * 1000, 2),
        "second_step_ms_p50": round(statistics.median(seconds["second"]) * 1000, 2),
    }
    log(
        f"mfa sign-in: password step {result['password_step_calls']} DynamoDB calls, "
        f"second step {result['second_step_calls']}"
    )
    return result


# --------------------------------------------------------------------------- SSO sign-in
SSO_SIGN_INS = 10
SSO_CALLBACK_BUDGET = 12  # DynamoDB calls of one /oauth/callback, at most


def sso_sign_in(sign_ins: int = SSO_SIGN_INS) -> dict[str, Any]:
    """Federated sign-ins in-process against a real OpenID provider (node's oidc-provider): the
    DynamoDB calls of each ``/oauth/callback`` (the first provisions the user, the others find
    the link) and how often the provider's key set was read across all of them (one per
    container and key set is the target)."""
    from moto import mock_aws

    with mock_aws():
        return _sso_sign_in(sign_ins)


def _sso_sign_in(sign_ins: int) -> dict[str, Any]:
    from tests.support.login import login_world
    from tests.support.oidc_provider import (
        CLIENT_ID,
        CLIENT_SECRET,
        IN_PROCESS_CALLBACK,
        back_from_the_provider,
        oidc_provider,
    )
    from umapi import services
    from umapi.settings import get_settings

    api, platform, _, patch = _world("SSO")
    patch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    services.reset()
    world = login_world(api, platform)
    accounts = {"bench@bench-sso.example": {"email_verified": True, "name": "Bench"}}
    calls: list[int] = []
    with oidc_provider(IN_PROCESS_CALLBACK, accounts) as provider:
        body = {
            "name": "Bench IdP",
            "type": "oidc",
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "domains": ["bench-sso.example"],
        }
        assert api.post("/sso-connections", token=world.tenant.access, json_body=body).status == 201
        for _ in range(sign_ins):
            made: list[str] = []
            answer = back_from_the_provider(world, provider.issuer, "bench@bench-sso.example", made)
            assert answer.status == 302, answer.body[:300]
            calls.append(len(made))
    fetches = services.key_sets().fetches
    patch.undo()
    log(f"sso sign-in: callback DynamoDB calls {calls}, key set read {fetches} time(s) in {sign_ins} sign-ins")
    return {
        "sign_ins": sign_ins,
        "dynamodb_calls_first": calls[0],
        "dynamodb_calls_linked": max(calls[1:]) if len(calls) > 1 else None,
        "jwks_fetches": fetches,
    }


# --------------------------------------------------------------------------- webhooks
def webhook_throughput(events: int) -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        return _webhook_throughput(events)


def _webhook_throughput(events: int) -> dict[str, Any]:
    from tests.support.webhooks import Pump, receiver

    api, _, tenant, patch = _world("Hooks")
    with receiver() as hook:
        api.post("/webhooks", token=tenant.access, json_body={"url": hook.url, "events": ["user.created"]})
        for i in range(events):
            tenant.user(f"hook{i}@example.com", send_welcome_email=False)
        pump = Pump(api.context)
        pump.fan_out()
        started = time.perf_counter()
        while True:
            messages = pump.receive()
            if not messages:
                break
            pump.deliver(messages)
        seconds = time.perf_counter() - started
        delivered = len(hook.received)
    patch.undo()
    rate = delivered / seconds if seconds else 0.0
    log(f"webhooks: {delivered} deliveries in {seconds:.2f} s = {rate:.0f}/s (one delivery function, batches of 10)")
    return {"deliveries": delivered, "seconds": round(seconds, 2), "per_second": round(rate, 1)}


# --------------------------------------------------------------------------- jobs
def job_throughput(rows: int) -> dict[str, Any]:
    """A ``rows``-row csv imported and then exported on the local runtime (moto's server, the
    pollers, the worker functions in their own processes), as ``make dev`` runs them: rows per
    second from the job's own started/completed times, and the worker processes' peak RSS."""
    import tempfile

    import requests

    from devserver.runtime import LocalRuntime, LocalRuntimeConfig

    runtime = LocalRuntime(LocalRuntimeConfig(template_path=ROOT / "template.yaml", port=0))
    runtime.start()
    try:
        auth = _bench_tenant(runtime, "Bench Jobs")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "users.csv"
            with path.open("w") as out:
                out.write("email,name,department,send_welcome_email\n")
                out.writelines(f"bench{i}@example.com,Bench User {i},Ops,false\n" for i in range(rows))
            created = requests.post(
                f"{runtime.url}/jobs",
                json={"type": "bulk_user_create", "upload": {"content_type": "text/csv"}},
                headers=auth,
                timeout=30,
            ).json()
            with path.open("rb") as body:
                requests.put(created["upload_url"], data=body, timeout=120).raise_for_status()
        imported = _finished(runtime.url, auth, created["id"], f"import of {rows:,} rows")
        exported_job = requests.post(
            f"{runtime.url}/jobs", json={"type": "user_export", "data": {"format": "csv"}}, headers=auth, timeout=30
        ).json()
        exported = _finished(runtime.url, auth, exported_job["id"], f"export of {rows:,} users")
        peak = _peak_rss_mib(runtime, "JobWorkerFunction")
    finally:
        runtime.stop()
    result = {"rows": rows, "import": imported, "export": exported, "worker_peak_rss_mib": peak}
    log(
        f"jobs: import {imported['rows_per_second']:.0f} rows/s, export {exported['rows_per_second']:.0f} rows/s, "
        f"worker peak RSS {peak} MiB (local runtime)"
    )
    return result


# --------------------------------------------------------------------------- the local table's size
TARGET_TABLE_RATIO = 2.0  # x the figure at the smallest table


def local_table(sizes: tuple[int, ...], pages: int = 15, deliveries: int = 5) -> dict[str, Any]:
    """The local runtime as its table grows (other organizations' items, up to a million): the
    median time of a ``GET /users`` page (25 of the organization's 100 users) and of a webhook's
    delivery (from ``POST /users`` answering to the receiver's POST arriving), per table size.
    moto answers each query from its partition (devserver/moto_patches.py), so both should stay
    within TARGET_TABLE_RATIO of the smallest table's figures."""
    import requests

    from devserver.runtime import LocalRuntime, LocalRuntimeConfig
    from tests.support.webhooks import receiver

    runtime = LocalRuntime(LocalRuntimeConfig(template_path=ROOT / "template.yaml", port=0))
    runtime.start()
    rows: dict[str, dict[str, Any]] = {}
    try:
        auth = _bench_tenant(runtime, "Bench Table")
        session = requests.Session()
        for i in range(100):
            body = {"email": f"page{i}@example.com", "name": f"Page User {i}", "send_welcome_email": False}
            session.post(f"{runtime.url}/users", json=body, headers=auth, timeout=30).raise_for_status()
        with receiver() as hook:
            hooked = {"url": hook.url, "events": ["user.created"]}
            session.post(f"{runtime.url}/webhooks", json=hooked, headers=auth, timeout=30).raise_for_status()
            for size in sorted(sizes):
                held = _fill_local_table(size)
                session.get(f"{runtime.url}/users?limit=25", headers=auth, timeout=600).raise_for_status()  # warm
                page_ms = []
                for _ in range(pages):
                    started = time.perf_counter()
                    session.get(f"{runtime.url}/users?limit=25", headers=auth, timeout=60).raise_for_status()
                    page_ms.append((time.perf_counter() - started) * 1000)
                delays = []
                for i in range(deliveries):
                    before = len(hook.received)
                    body = {"email": f"d{size}-{i}@example.com", "name": "Delivered", "send_welcome_email": False}
                    session.post(f"{runtime.url}/users", json=body, headers=auth, timeout=60).raise_for_status()
                    answered = time.monotonic()
                    deadline = answered + 600
                    while len(hook.received) <= before and time.monotonic() < deadline:
                        time.sleep(0.02)
                    if len(hook.received) <= before:
                        raise SystemExit(f"bench: no delivery within 600 s on a table of {held:,} items")
                    delays.append(hook.received[before].at - answered)
                rows[str(size)] = {
                    "items": held,
                    "page_ms": round(statistics.median(page_ms), 1),
                    "delivery_s": round(statistics.median(delays), 2),
                }
                row = rows[str(size)]
                log(f"local table of {held:,} items: page {row['page_ms']} ms, delivery {row['delivery_s']} s")
    finally:
        runtime.stop()
    first = rows[str(min(sizes))]
    for row in rows.values():
        row["page_ratio"] = round(row["page_ms"] / first["page_ms"], 2)
        row["delivery_ratio"] = round(row["delivery_s"] / max(first["delivery_s"], 0.01), 2)
    return rows


def _fill_local_table(size: int) -> int:
    """Other organizations' user items until the local table holds ``size`` items; the count.

    They are put into moto's table directly (as stored items, no stream records: a million
    requests would take an hour and wake the fan-out for nothing); what the queries keep of the
    table is then dropped, so the next request rebuilds it from every item."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from devserver import moto_patches

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table("Table")
    held = sum(len(partition) if table.range_key_attr else 1 for partition in table.items.values())
    for n in range(held, size):
        org = f"org_BENCHFILL{n // 1000:08d}"
        user = f"usr_BENCHFILL{n:013d}"
        attrs = {
            "PK": {"S": f"ORG#{org}"},
            "SK": {"S": f"USER#{user}"},
            "entity": {"S": "user"},
            "email": {"S": f"fill{n}@example.com"},
            "name": {"S": f"Filler {n}"},
            "status": {"S": "active"},
            "GSI1PK": {"S": f"ORG#{org}#USERS"},
            "GSI1SK": {"S": f"2026-01-01T00:00:00.000Z#{user}"},
        }
        hash_key, range_key = DynamoType(attrs["PK"]), DynamoType(attrs["SK"])
        table.items[hash_key][range_key] = Item(hash_key, range_key, attrs)
    moto_patches.forget_partitions(table)
    return max(size, held)


def _bench_tenant(runtime: Any, name: str) -> dict[str, str]:
    """A new organization on the local runtime, and the headers of a client holding every
    permission in it (a high rate limit: the bench is not what the limit is for)."""
    from tests.support.http import admin_headers, client_token, new_client, new_org
    from umapi.access.permissions import PERMISSIONS

    headers = admin_headers(runtime)
    org = new_org(runtime, headers, name)
    client = new_client(
        runtime, headers, org, name="bench", grant_types=["client_credentials"], scopes=list(PERMISSIONS),
        rate_limit_per_minute=100_000,
    )  # fmt: skip
    return {"Authorization": f"Bearer {client_token(runtime.url, client['id'], client['client_secret'])}"}


def _finished(url: str, auth: dict[str, str], job_id: str, what: str) -> dict[str, Any]:
    import requests

    from umapi.time import parse_rfc3339

    while True:
        job = requests.get(f"{url}/jobs/{job_id}", headers=auth, timeout=30).json()
        if job["status"] not in ("awaiting_upload", "queued", "processing"):
            break
        time.sleep(1.0)
    if job["status"] != "completed" or job["failed"]:
        raise SystemExit(f"bench: the {what} ended {job['status']} with {job['failed']} failed rows")
    seconds = (parse_rfc3339(job["completed_at"]) - parse_rfc3339(job["started_at"])).total_seconds()
    return {
        "seconds": round(seconds, 1),
        "rows": job["successful"],
        "rows_per_second": round(job["successful"] / max(seconds, 0.001), 1),
    }


def _peak_rss_mib(runtime: Any, function: str) -> int:
    """The largest VmHWM of the function's worker processes (Linux /proc)."""
    peak = 0
    for pool in runtime.workers._pools.values():
        if pool.spec.name != function:
            continue
        for worker in pool._all:
            status = Path(f"/proc/{worker._process.pid}/status")
            for line in status.read_text().splitlines() if status.exists() else []:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) // 1024)
    return peak


# --------------------------------------------------------------------------- scale
# Each listing's first page (limit 25) in organizations of N users with N audit entries and N
# events: DynamoDB calls and items read (ScannedCount of a query, the items of a batch read).
# One user, entry and event of each filter is rare (tests/support/scale.py).
SCALE_REQUESTS: dict[str, tuple[str, dict[str, str]]] = {
    "GET /users": ("/users", {}),
    "GET /users?search= (1 match)": ("/users", {"search": "quixote"}),
    "GET /users?search= (a prefix of every email)": ("/users", {"search": "user"}),
    "GET /users?status=suspended (1 user)": ("/users", {"status": "suspended"}),
    "GET /users?department= (1 user)": ("/users", {"department": "Rare"}),
    "GET /users?role=<custom role, 1 holder>": ("/users", {"role": "{role}"}),
    "GET /users?role=member&department=Ops": ("/users", {"role": "member", "department": "Ops"}),
    "GET /users?sort=name": ("/users", {"sort": "name"}),
    "GET /users?sort=email&order=desc": ("/users", {"sort": "email", "order": "desc"}),
    "GET /users?sort=name&status=suspended": ("/users", {"sort": "name", "status": "suspended"}),
    "GET /audit-log": ("/audit-log", {}),
    "GET /audit-log?action= (1 entry)": ("/audit-log", {"action": "role.removed"}),
    "GET /webhooks/events?type= (1 event)": ("/webhooks/events", {"type": "role.removed"}),
    "GET /webhooks/events?status=failed (1 event)": ("/webhooks/events", {"status": "failed"}),
}
# A rare filter under another sort has no index of its own: it reads within the read budget.
BUDGETED = {"GET /users?sort=name&status=suspended"}


def scale_table(sizes: tuple[int, ...]) -> dict[str, dict[str, dict[str, int]]]:
    from moto import mock_aws

    from devserver import moto_patches

    moto_patches.install()
    with mock_aws():
        return _scale_table(sizes)


def _scale_table(sizes: tuple[int, ...]) -> dict[str, dict[str, dict[str, int]]]:
    from tests.support.costs import Reads
    from tests.support.scale import seed_history, seed_users
    from tests.support.users import new_tenant
    from umapi.aws import dynamodb_client

    api, platform, _, patch = _world("Scale")
    table: dict[str, dict[str, dict[str, int]]] = {name: {} for name in SCALE_REQUESTS}
    events = dynamodb_client().meta.events
    for size in sizes:
        tenant = new_tenant(api, platform, f"Org of {size}")
        role = api.post("/roles", token=tenant.access, json_body={"name": "Rare", "permissions": ["users:read"]})
        role_id = role.json()["id"]
        started = time.perf_counter()
        seed_users(tenant.org_id, size, rare_role=role_id)
        seed_history(tenant.org_id, size)
        log(f"scale: {size} users, audit entries and events written in {time.perf_counter() - started:.1f} s")
        for name, (path, query) in SCALE_REQUESTS.items():
            resolved = {key: value.replace("{role}", role_id) for key, value in query.items()}
            api.get(path, token=tenant.access, query={"limit": "25", **resolved})  # warm
            reads = Reads()
            events.register("after-call.dynamodb", reads)
            try:
                answer = api.get(path, token=tenant.access, query={"limit": "25", **resolved})
            finally:
                events.unregister("after-call.dynamodb", reads)
            assert answer.status == 200, f"{name}: {answer.status} {answer.body[:200]}"
            table[name][str(size)] = {"calls": len(reads.calls), "items": reads.items}
        log(f"scale: {size} users measured")
    patch.undo()
    return table


def flat(row: dict[str, dict[str, int]]) -> bool:
    """The same calls at every size, and items within the last page's probe (+2)."""
    first, *rest = row.values()
    return all(r["calls"] == first["calls"] and r["items"] <= first["items"] + 2 for r in rest)


# --------------------------------------------------------------------------- report
def report(results: dict[str, Any]) -> list[str]:
    """The tables, and the targets that were missed."""
    from umapi.db import READ_BUDGET

    missed = []
    cold = results["cold_imports"]
    print(f"\n{'function':<26}{'cold import':>14}{'x boto3':>10}{'x stack':>10}  (median of {cold['rounds']} rounds)")
    for name, row in cold["functions"].items():
        flags = []
        loads_jwt = row["compared_with"] == "stack+jwt"
        if not loads_jwt and row["ratio_to_boto3"] > TARGET_IMPORT_RATIO:
            flags.append(f"> {TARGET_IMPORT_RATIO}x boto3")
            missed.append(f"cold import of {name}: {row['ratio_to_boto3']}x boto3 (target {TARGET_IMPORT_RATIO}x)")
        stack_target = TARGET_STACK_RATIO if loads_jwt else STACK_TARGETS.get(name)
        if stack_target is not None and row["ratio_to_stack"] > stack_target:
            flags.append(f"> {stack_target}x {row['compared_with']}")
            missed.append(
                f"cold import of {name}: {row['ratio_to_stack']}x the mandated {row['compared_with']} "
                f"(target {stack_target}x)"
            )
        print(
            f"{name:<26}{row['median_ms']:>11.0f} ms{row['ratio_to_boto3']:>10.2f}{row['ratio_to_stack']:>10.2f}"
            f"  {row['compared_with']:<10}{'  ' + ', '.join(flags) if flags else ''}"
        )
    for baseline in ("stack", "stack+jwt"):
        row = cold[baseline]
        print(f"{'(the mandated ' + baseline + ')':<26}{row['median_ms']:>11.0f} ms{row['ratio_to_boto3']:>10.2f}")
    print(f"{'(bare import boto3)':<26}{cold['boto3_median_ms']:>11.0f} ms")
    dashboard = results.get("dashboard")
    if dashboard:
        print(
            f"\nDashboard first load ({dashboard['loads']} fresh loads in Chromium, local runtime): "
            f"{dashboard['js_gzip_bytes'] / 1024:.1f} KB of JavaScript (gzip), ready in "
            f"{dashboard['ready_ms_p50']} ms p50, {dashboard['ready_ms_max']} ms at most"
        )
        if dashboard["js_gzip_bytes"] > DASHBOARD_JS_BUDGET:
            missed.append(f"dashboard: {dashboard['js_gzip_bytes']} bytes of JavaScript (target 150 KB)")
        if dashboard["ready_ms_p50"] > DASHBOARD_READY_BUDGET_MS:
            missed.append(f"dashboard: ready in {dashboard['ready_ms_p50']} ms (target 1,000)")
    mfa = results.get("mfa_sign_in")
    if mfa:
        print(
            f"\nMFA sign-in ({mfa['sign_ins']} with a password and a second factor): the password step makes "
            f"{mfa['password_step_calls']} DynamoDB calls ({mfa['password_step_ms_p50']} ms p50 in-process), "
            f"the second step {mfa['second_step_calls']} ({mfa['second_step_ms_p50']} ms)"
        )
        if max(mfa["password_step_calls"], mfa["second_step_calls"]) > MFA_STEP_BUDGET:
            missed.append(f"MFA sign-in: a step made more than {MFA_STEP_BUDGET} DynamoDB calls")
    sso = results.get("sso_sign_in")
    if sso:
        print(
            f"\nSSO sign-in ({sso['sign_ins']} in one container): /oauth/callback makes "
            f"{sso['dynamodb_calls_first']} DynamoDB calls when it provisions the user, "
            f"{sso['dynamodb_calls_linked']} when the user is linked; the provider's key set was read "
            f"{sso['jwks_fetches']} time(s)"
        )
        if max(sso["dynamodb_calls_first"], sso["dynamodb_calls_linked"] or 0) > SSO_CALLBACK_BUDGET:
            missed.append(f"SSO sign-in: more than {SSO_CALLBACK_BUDGET} DynamoDB calls in /oauth/callback")
        if sso["jwks_fetches"] > 1:
            missed.append(f"SSO sign-in: the key set was read {sso['jwks_fetches']} times (target 1)")
    print(f"\n{'endpoint':<26}{'p50':>9}{'p99':>9}{'DynamoDB':>9}{'ratio':>8}{'calls':>7}")
    for name, row in results["endpoints"].items():
        flag = "" if (row["overhead_ratio"] or 0) <= TARGET_OVERHEAD_RATIO else "  > target"
        print(
            f"{name:<26}{row['p50_ms']:>7.2f}ms{row['p99_ms']:>7.2f}ms{row['dynamodb_p50_ms']:>7.2f}ms"
            f"{row['overhead_ratio']:>8}{row['dynamodb_calls']:>7}{flag}"
        )
        if flag:
            ratio = row["overhead_ratio"]
            missed.append(f"overhead of {name}: {ratio}x its DynamoDB time (target {TARGET_OVERHEAD_RATIO}x)")
        if row["scans"]:
            missed.append(f"{name} scans")
    scale = results["scale"]
    sizes = list(next(iter(scale.values())))
    print(f"\n{'first page (limit 25): calls / items read':<52}" + "".join(f"{size + ' users':>16}" for size in sizes))
    for name, row in scale.items():
        if name in BUDGETED:
            verdict = (
                "bounded by the read budget"
                if all(r["items"] <= READ_BUDGET + 2 for r in row.values())
                else "OVER THE READ BUDGET"
            )
        else:
            verdict = "flat" if flat(row) else "GROWS WITH N"
        if verdict in ("GROWS WITH N", "OVER THE READ BUDGET"):
            missed.append(f"{name}: {verdict.lower()} ({row})")
        cells = "".join(f"{str(r['calls']) + ' / ' + str(r['items']):>16}" for r in row.values())
        print(f"{name:<52}{cells}  {verdict}")
    table = results.get("local_table")
    if table:
        print(f"\n{'local table (make dev)':<26}{'items':>12}{'page':>10}{'x':>6}{'delivery':>10}{'x':>6}")
        for row in table.values():
            print(
                f"{'':<26}{row['items']:>12,}{row['page_ms']:>8.1f}ms{row['page_ratio']:>6}"
                f"{row['delivery_s']:>9.2f}s{row['delivery_ratio']:>6}"
            )
            for what in ("page", "delivery"):
                if row[f"{what}_ratio"] > TARGET_TABLE_RATIO:
                    missed.append(
                        f"local table of {row['items']:,} items: {what} {row[f'{what}_ratio']}x the smallest table's"
                        f" (target {TARGET_TABLE_RATIO}x)"
                    )
    hooks = results["webhooks"]
    print(f"\nwebhook deliveries: {hooks['per_second']}/s ({hooks['deliveries']} in {hooks['seconds']} s)")
    jobs = results.get("jobs")
    if jobs:
        imported, exported = jobs["import"], jobs["export"]
        print(
            f"jobs on the local runtime: {jobs['rows']:,}-row import {imported['rows_per_second']} rows/s "
            f"({imported['seconds']} s), export {exported['rows_per_second']} rows/s ({exported['seconds']} s), "
            f"worker peak RSS {jobs['worker_peak_rss_mib']} MiB"
        )
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds of cold imports [21]")
    parser.add_argument("--requests", type=int, default=40, help="warm requests per endpoint [40]")
    parser.add_argument("--events", type=int, default=100, help="webhook deliveries to time [100]")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(size) for size in text.split(",")),
        default=SCALE_SIZES,
        help="organization sizes of the scale table [100,1000,10000]",
    )
    parser.add_argument(
        "--job-rows", type=int, default=10_000, help="rows imported and exported on the local runtime [10000]; 0 skips"
    )
    parser.add_argument(
        "--table-sizes",
        type=lambda text: tuple(int(size) for size in text.split(",")) if text != "0" else (),
        default=(1_000, 100_000, 1_000_000),
        help="local table sizes for the page and delivery row [1000,100000,1000000]; 0 skips",
    )
    parser.add_argument(
        "--only",
        choices=("cold-imports", "local-table", "jobs", "sso", "mfa", "dashboard"),
        help="run only this part (merged into the last --output)",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json", help="where to write JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # With metrics disabled, Powertools still prints a metric's EMF line once it holds 100
    # values; the handlers' stdout is not the report.
    with contextlib.redirect_stdout(io.StringIO()):
        if args.only:  # one part again, the rest as the last full run left it
            results: dict[str, Any] = json.loads(args.output.read_text())
            if args.only == "cold-imports":
                results["cold_imports"] = cold_imports(args.rounds)
            elif args.only == "local-table":
                results["local_table"] = local_table(args.table_sizes)
            elif args.only == "sso":
                results["sso_sign_in"] = sso_sign_in()
            elif args.only == "mfa":
                results["mfa_sign_in"] = mfa_sign_in()
            elif args.only == "dashboard":
                results["dashboard"] = dashboard_load()
            else:
                results["jobs"] = job_throughput(args.job_rows)
        else:
            results = {
                "python": sys.version.split()[0],
                "machine": os.uname().machine,
                "cold_imports": cold_imports(args.rounds),
                "endpoints": warm_endpoints(args.requests),
                "webhooks": webhook_throughput(args.events),
                "scale": scale_table(args.sizes),
                "sso_sign_in": sso_sign_in(),
                "mfa_sign_in": mfa_sign_in(),
                "dashboard": dashboard_load(),
            }
            if args.job_rows:
                results["jobs"] = job_throughput(args.job_rows)
            if args.table_sizes:
                results["local_table"] = local_table(args.table_sizes)
    missed = report(results)
    results["missed_targets"] = missed
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.output} in {results['seconds']} s")
    for line in missed:
        print(f"missed: {line}")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
