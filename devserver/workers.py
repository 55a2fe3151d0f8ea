"""Lambda "containers" as worker processes, and the runtime SAM's local API invokes through.

Why processes and not threads: each function needs its own environment and its own
``handler`` module, and Powertools keeps the current event on a class attribute, so
two invocations sharing an interpreter would read each other's requests. A worker
process is what a Lambda container is: one function, one request at a time, reused
while warm. Concurrent requests get more workers, up to a per-function limit.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from typing import Any

from devserver.worker_main import FunctionSpec, serve

LOG = logging.getLogger(__name__)

# Imported once in the fork server, so a new worker forks with them loaded.
_PRELOAD = [
    "boto3",
    "botocore.session",
    "pydantic",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
]


class InvocationError(RuntimeError):
    """The worker died or timed out; the function's answer is a Lambda service error."""


class Worker:
    def __init__(self, context: ForkServerContext, spec: FunctionSpec) -> None:
        self.spec = spec
        self._connection, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, spec), name=f"lambda:{spec.name}", daemon=True)
        self._process.start()
        child.close()
        self._await(self._connection, spec.timeout_seconds + 30, "start")

    def invoke(self, event_json: str) -> str:
        self._connection.send(event_json)
        return self._await(self._connection, self.spec.timeout_seconds, "answer")

    def _await(self, connection: Connection, timeout: float, what: str) -> str:
        try:
            if connection.poll(timeout):
                return str(connection.recv())
        except (EOFError, OSError) as exc:
            self.stop()
            raise InvocationError(f"{self.spec.name} crashed before it could {what}") from exc
        self.stop()
        raise InvocationError(f"{self.spec.name} did not {what} within {timeout:.0f} s")

    def stop(self) -> None:
        self._connection.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join(timeout=5)


class FunctionPool:
    """Warm workers of one function; a busy pool grows up to ``max_workers``."""

    def __init__(self, context: ForkServerContext, spec: FunctionSpec, max_workers: int) -> None:
        self._context = context
        self.spec = spec
        self._idle: list[Worker] = []
        self._all: list[Worker] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_workers)

    def invoke(self, event_json: str) -> str:
        with self._slots:
            worker = self._checkout()
            try:
                result = worker.invoke(event_json)
            except InvocationError:
                with self._lock:
                    self._all.remove(worker)
                raise
            with self._lock:
                self._idle.append(worker)
            return result

    def warm(self) -> None:
        with self._slots:
            worker = self._checkout()
            with self._lock:
                self._idle.append(worker)

    def _checkout(self) -> Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        worker = Worker(self._context, self.spec)
        with self._lock:
            self._all.append(worker)
        return worker

    def stop(self) -> None:
        with self._lock:
            workers, self._all, self._idle = self._all, [], []
        for worker in workers:
            worker.stop()


class WorkerRuntime:
    """Stands in for SAM's Docker ``LambdaRuntime``: same ``invoke`` signature, worker processes inside."""

    def __init__(self, spec_for: Callable[[Any], FunctionSpec], max_workers_per_function: int = 10) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(_PRELOAD)
        self._spec_for = spec_for
        self._max_workers = max_workers_per_function
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()

    def pool(self, function_config: Any) -> FunctionPool:
        with self._lock:
            pool = self._pools.get(function_config.full_path)
            if pool is None:
                pool = FunctionPool(self._context, self._spec_for(function_config), self._max_workers)
                self._pools[function_config.full_path] = pool
            return pool

    def invoke(
        self, function_config: Any, event: str, tenant_id: str | None = None, *, stdout: Any = None, **_: Any
    ) -> None:
        """What ``samcli.local.lambdafn.runtime.LambdaRuntime.invoke`` does, without Docker."""
        try:
            output = self.pool(function_config).invoke(event)
        except InvocationError as exc:
            LOG.error("%s", exc)
            output = json.dumps({"errorMessage": str(exc), "errorType": "Runtime.ExitError"})
        if stdout is not None:
            stdout.write_str(output)
            stdout.flush()

    def stop(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.stop()
