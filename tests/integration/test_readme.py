"""The README's "A first session" block works as written, against the local runtime."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from devserver.runtime import LocalRuntime, LocalRuntimeConfig

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SECRET = "dev-secret-please-change"


def first_session_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### A first session", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "the README lost its first-session block"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_runtime(port: int) -> LocalRuntime:
    """The local runtime with the README's admin secret, as `make dev` starts it."""
    before = os.environ.get("LOCAL_ADMIN_CLIENT_SECRET")
    os.environ["LOCAL_ADMIN_CLIENT_SECRET"] = SECRET
    try:
        runtime = LocalRuntime(LocalRuntimeConfig(template_path=ROOT / "template.yaml", port=port))
        runtime.start()
    finally:
        if before is None:
            os.environ.pop("LOCAL_ADMIN_CLIENT_SECRET", None)
        else:
            os.environ["LOCAL_ADMIN_CLIENT_SECRET"] = before
    return runtime


def test_the_first_session_block_runs_verbatim() -> None:
    block = first_session_block()
    assert "make dev &" in block
    assert SECRET in block
    port = free_port()
    # Everything is the block as written, except that `make dev &` is this test starting the
    # runtime a few seconds *after* the block began (as a fresh clone's install delays it).
    script = block.replace("make dev &", ":").replace("127.0.0.1:3000", f"127.0.0.1:{port}")
    bash = shutil.which("bash") or "/bin/bash"
    session = subprocess.Popen(  # noqa: S603 - the README's own block
        [bash, "-euo", "pipefail", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(3)
    runtime = start_runtime(port)
    try:
        out, err = session.communicate(timeout=120)
    finally:
        runtime.stop()
    assert session.returncode == 0, err
    assert '"client_secret"' in out, out
    assert '"scopes":["users:read"]' in out.replace(" ", "")
