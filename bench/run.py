#!/usr/bin/env python3
"""Measure what the API costs: cold imports, warm latency and our overhead over DynamoDB, the
DynamoDB calls of each endpoint, and webhook deliveries per second. Prints a table and writes
bench/results.json. Not part of the test run (``make bench``).

Targets (issue 8): cold import <= 2.0x a bare ``import boto3`` for every function, both
started as Lambda starts them; warm overhead ratio <= 1.25 on every endpoint (a request's time /
the time spent inside its own DynamoDB calls, botocore and moto); zero Scans. The ratios compare
like with like on this machine, so they travel; the absolute milliseconds do not.
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

TARGET_IMPORT_RATIO = 2.0
TARGET_OVERHEAD_RATIO = 1.25


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


def _timed_import(code: str, env: dict[str, str], cwd: Path) -> float:
    """Seconds ``code`` takes in a fresh interpreter without site-packages (``-S``): only
    PYTHONPATH, as in the Lambda runtime."""
    program = f"import time\nstarted = time.perf_counter()\n{code}\nprint(time.perf_counter() - started)"
    out = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-S", "-X", "frozen_modules=on", "-c", program],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def cold_imports(repeats: int) -> dict[str, Any]:
    """Each function's ``import handler`` as Lambda starts it: the layer's packages only, the
    template's environment (tracing on), and Lambda's own variables (with ``LAMBDA_TASK_ROOT``
    set the X-Ray SDK samples locally instead of building a boto3 X-Ray client)."""
    from devserver.template import Template

    template = Template.load(ROOT / "template.yaml")
    site = lambda_site()
    layer = str(ROOT / "layers" / "core" / "python")
    runtime_env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    baseline = statistics.median(
        _timed_import("import boto3", {**runtime_env, "PYTHONPATH": str(site)}, ROOT) for _ in range(repeats)
    )
    log(f"cold import: bare boto3 {baseline * 1000:.0f} ms (median of {repeats})")
    functions = {}
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
        seconds = statistics.median(_timed_import("import handler", env, code_dir) for _ in range(repeats))
        functions[function_id] = {"median_ms": round(seconds * 1000, 1), "ratio_to_boto3": round(seconds / baseline, 2)}
        log(f"cold import: {function_id} {seconds * 1000:.0f} ms = {seconds / baseline:.2f}x boto3")
    return {"boto3_median_ms": round(baseline * 1000, 1), "repeats": repeats, "functions": functions}


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
    for name, (call, undo) in endpoints.items():
        for _ in range(5):  # warm the container and moto's code paths
            call()
            if undo:
                undo()
        ours: list[float] = []
        theirs: list[float] = []
        operations: list[str] = []
        for _ in range(requests):
            recorder.take()
            response = call()
            ours.append(api.handler_seconds)  # the Lambda's duration: not the harness building the event
            operations, dynamodb_seconds = recorder.take()
            theirs.append(dynamodb_seconds)
            if undo:
                undo()
                recorder.take()
            assert response.status < 400, f"{name}: {response.status} {response.body[:200]}"
        p50, p99 = _percentile(ours, 0.5), _percentile(ours, 0.99)
        dynamodb_p50 = _percentile(theirs, 0.5)
        results[name] = {
            "p50_ms": round(p50 * 1000, 2),
            "p99_ms": round(p99 * 1000, 2),
            "dynamodb_p50_ms": round(dynamodb_p50 * 1000, 2),
            "overhead_ratio": round(p50 / dynamodb_p50, 2) if dynamodb_p50 else None,
            "dynamodb_calls": len(operations),
            "operations": operations,
            "scans": operations.count("Scan"),
        }
        log(
            f"warm: {name:<24} p50 {p50 * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms  "
            f"DynamoDB {dynamodb_p50 * 1000:6.2f} ms  x{results[name]['overhead_ratio']}  calls {len(operations)}"
        )
    patch.undo()
    return results


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


# --------------------------------------------------------------------------- report
def report(results: dict[str, Any]) -> list[str]:
    """The table, and the targets that were missed."""
    missed = []
    print(f"\n{'function':<26}{'cold import':>14}{'x boto3':>10}")
    for name, row in results["cold_imports"]["functions"].items():
        flag = "" if row["ratio_to_boto3"] <= TARGET_IMPORT_RATIO else "  > target"
        print(f"{name:<26}{row['median_ms']:>11.0f} ms{row['ratio_to_boto3']:>10.2f}{flag}")
        if flag:
            missed.append(f"cold import of {name}: {row['ratio_to_boto3']}x boto3 (target {TARGET_IMPORT_RATIO}x)")
    print(f"{'(bare import boto3)':<26}{results['cold_imports']['boto3_median_ms']:>11.0f} ms")
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
    hooks = results["webhooks"]
    print(f"\nwebhook deliveries: {hooks['per_second']}/s ({hooks['deliveries']} in {hooks['seconds']} s)")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="fresh interpreters per cold import [7]")
    parser.add_argument("--requests", type=int, default=40, help="warm requests per endpoint [40]")
    parser.add_argument("--events", type=int, default=100, help="webhook deliveries to time [100]")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json", help="where to write JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # With metrics disabled, Powertools still prints a metric's EMF line once it holds 100
    # values; the handlers' stdout is not the report.
    with contextlib.redirect_stdout(io.StringIO()):
        results: dict[str, Any] = {
            "python": sys.version.split()[0],
            "machine": os.uname().machine,
            "cold_imports": cold_imports(args.repeats),
            "endpoints": warm_endpoints(args.requests),
            "webhooks": webhook_throughput(args.events),
        }
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
