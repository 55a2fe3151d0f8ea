"""Operating the local runtime with the repository's own tools: `make rotate-key`
(scripts/admin.py --local) finds `make dev` by its port and rotates its signing key."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from devserver import state
from devserver.runtime import LocalRuntime
from tests.support.scripts import load_script
from umapi.auth.signing import ACTIVATION_SECONDS, KeyRingStore

pytestmark = pytest.mark.e2e


@pytest.fixture
def announced(local_api: LocalRuntime) -> Iterator[int]:
    """The runtime's state file, as `make dev` leaves it while it serves."""
    state.announce(local_api)
    yield state.port_of(local_api)
    state.remove(local_api.root, state.port_of(local_api))


def test_rotate_key_finds_the_local_runtime_by_its_port(
    local_api: LocalRuntime, announced: int, capsys: pytest.CaptureFixture[str]
) -> None:
    attributes = local_api.intrinsics.attributes
    ring = KeyRingStore(
        local_api.backend.client("secretsmanager"),
        attributes["SigningKeysSecret"]["Ref"],
        local_api.backend.client("dynamodb"),
        attributes["Table"]["Ref"],
    )
    before = ring.load()
    assert load_script("admin").main(["--local", str(announced), "rotate-signing-key"]) == 0
    said = capsys.readouterr().out
    after = ring.load()
    assert len(after) == len(before) + 1
    new = after[0]
    assert new.kid in said
    assert f"in {ACTIVATION_SECONDS} s" in said
    assert abs(new.activates_at - (time.time() + ACTIVATION_SECONDS)) < 60


def test_without_a_local_runtime_it_says_how_to_start_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_script("admin").main(["--local", "1", "rotate-signing-key"]) == 2
    assert "make dev" in capsys.readouterr().err
