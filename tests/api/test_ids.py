from __future__ import annotations

import re

from umapi.ids import new_id, ulid

CROCKFORD_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def test_ids_are_prefixed_ulids() -> None:
    for prefix in ("org", "usr", "role", "cli", "whk", "evt", "req"):
        identifier = new_id(prefix)
        name, _, value = identifier.partition("_")
        assert name == prefix
        assert CROCKFORD_ULID.fullmatch(value)


def test_ulids_sort_by_time() -> None:
    earlier, later = ulid(now_ms=1_700_000_000_000), ulid(now_ms=1_700_000_000_001)
    assert earlier < later
    assert ulid(now_ms=0).startswith("0000000000")


def test_ulids_are_unique() -> None:
    assert len({ulid() for _ in range(10_000)}) == 10_000
