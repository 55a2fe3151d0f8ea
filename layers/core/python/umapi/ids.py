"""Identifiers: a type prefix plus a ULID (time-ordered, 128 bits, Crockford base32)."""

from __future__ import annotations

import os
import time
from typing import Literal

IdPrefix = Literal["org", "usr", "role", "cli", "whk", "evt", "req", "aud", "gen"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds since the epoch, then 80 random bits."""
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 0x1F] for shift in range(125, -1, -5))


def new_id(prefix: IdPrefix) -> str:
    """``prefix_<ULID>``, e.g. ``req_01JF8RUS1A2B3C4D5E6F7G8H9J``."""
    return f"{prefix}_{ulid()}"
