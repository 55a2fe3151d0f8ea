"""The dashboard's own logic (PKCE, where the API is, tokens, the error envelope in words, what
each user is offered): its Vitest suite (dashboard/src/*.test.ts), run as part of make test."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "dashboard"


def test_the_dashboards_unit_tests_pass() -> None:
    npx = shutil.which("npx")
    if npx is None or not (APP / "node_modules" / ".bin" / "vitest").exists():
        pytest.fail("The dashboard's tools are missing: make install installs them (needs Node.js and npm).")
    run = subprocess.run(  # noqa: S603 - the checkout's own test runner
        [npx, "--no-install", "vitest", "run", "--reporter=dot"],
        cwd=APP,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "passed" in run.stdout
