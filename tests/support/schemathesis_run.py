"""Property-based testing of the whole API from its OpenAPI document (schemathesis), against the
local runtime: no 5xx, every response as documented (status, content type, headers, schema),
schema-violating requests rejected, and no operation that ignores authentication. The run is
split by path into two test files (tests/local/test_schemathesis_*.py), so the two test
processes share it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devserver.runtime import LocalRuntime
from tests.support.http import admin_headers, client_token, new_client, new_org
from umapi.access.permissions import PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = "5"  # per operation in the fuzzing phase; the coverage phase tries every boundary anyway
SEED = "20261123"  # reproducible in CI; run `st run` by hand with other seeds to explore
USERS = "^/users"  # about half of the operations


def schemathesis_finds_nothing(local_api: LocalRuntime, tmp_path: Path, *paths: str) -> None:
    """``st run`` over the operations ``paths`` selects (schemathesis's filter options)."""
    # A tenant's client with every permission and room to be hammered (not the platform admin).
    headers = admin_headers(local_api)
    org = new_org(local_api, headers, "Fuzzed")
    created = new_client(
        local_api, headers, org, name="fuzzer", scopes=list(PERMISSIONS), rate_limit_per_minute=1_000_000
    )
    token = client_token(local_api.url, created["id"], created["client_secret"])
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(  # noqa: S603 - our virtualenv's schemathesis, fixed arguments
        [
            str(st),
            "--config-file",
            str(ROOT / "schemathesis.toml"),  # its hooks: see tests/support/schemathesis_hooks.py
            "run",
            str(ROOT / "openapi.json"),
            "--url",
            local_api.url,
            "-H",
            f"Authorization: Bearer {token}",
            *paths,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            MAX_EXAMPLES,
            "--workers",
            "2",
            "--seed",
            SEED,
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,  # its crash cache (.schemathesis/) stays out of the checkout
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout, report
