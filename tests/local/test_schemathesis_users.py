"""schemathesis over the /users operations (tests/support/schemathesis_run.py; the other half of the
operations is in the other test_schemathesis_*.py, so the two test processes share the run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devserver.runtime import LocalRuntime
from tests.support.schemathesis_run import USERS, schemathesis_finds_nothing

pytestmark = pytest.mark.e2e


def test_schemathesis_finds_nothing_in_users(local_api: LocalRuntime, tmp_path: Path) -> None:
    schemathesis_finds_nothing(local_api, tmp_path, "--include-path-regex", USERS)
