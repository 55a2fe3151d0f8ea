"""Local runtimes for the HTTP tests: the product's template, and a throwaway test stack.

Module-scoped: a runtime must be gone before any unit test enters ``mock_aws()``, which
patches botocore process-wide and would swallow the runtime's poller calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devserver.runtime import LocalRuntime, LocalRuntimeConfig

ROOT = Path(__file__).resolve().parents[2]


def start_runtime(template: Path) -> LocalRuntime:
    runtime = LocalRuntime(LocalRuntimeConfig(template_path=template, port=0))
    runtime.start()
    return runtime


@pytest.fixture(scope="module")
def local_api() -> Iterator[LocalRuntime]:
    """The product's template served locally, as ``make dev`` serves it."""
    runtime = start_runtime(ROOT / "template.yaml")
    yield runtime
    runtime.stop()


@pytest.fixture(scope="module")
def throwaway() -> Iterator[LocalRuntime]:
    """A test-only stack: a slow route, an echo route, a stream consumer and a queue consumer."""
    runtime = start_runtime(Path(__file__).parent / "throwaway" / "template.yaml")
    yield runtime
    runtime.stop()
