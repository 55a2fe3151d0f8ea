"""Runs inside one worker process: a Lambda "container" for one function.

It takes the function's environment, puts the function's code and layers on
``sys.path``, imports the handler once (a cold start) and then answers invocations
from its pipe until the pipe closes. Kept free of devserver imports so that the
worker starts fast.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection


@dataclass(frozen=True)
class FunctionSpec:
    """Everything a worker needs to host one function (picklable)."""

    name: str
    handler: str
    code_dir: str
    layer_dirs: tuple[str, ...]
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int


class LambdaContext:
    """The context object Lambda's Python runtime passes to a handler."""

    def __init__(self, spec: FunctionSpec, deadline: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{spec.environment.get('AWS_REGION', 'us-east-1')}:123456789012:function:{spec.name}"
        )
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def serve(connection: Connection, spec: FunctionSpec) -> None:
    # Ctrl-C goes to the whole process group; the parent stops workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(spec.environment)
    sys.path[:0] = [spec.code_dir, *spec.layer_dirs]
    module_name, function_name = spec.handler.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    connection.send("ready")
    while True:
        try:
            event_json = connection.recv()
        except EOFError:
            return
        context = LambdaContext(spec, time.monotonic() + spec.timeout_seconds)
        try:
            result = handler(json.loads(event_json), context)
            connection.send(json.dumps(result))
        except Exception as exc:  # noqa: BLE001 - the runtime boundary: report like Lambda's runtime does
            traceback.print_exc()
            error = {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
            connection.send(json.dumps(error))
        sys.stdout.flush()
        sys.stderr.flush()
