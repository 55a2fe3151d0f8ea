"""Identifiers: a type prefix plus a ULID (time-ordered, 128 bits, Crockford base32)."""

from __future__ import annotations

import os
import time
from typing import Literal

IdPrefix = Literal["org", "usr", "role", "cli", "whk", "evt", "req", "aud", "gen", "job", "sso", "mfa"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def crockford32(value: int, length: int) -> str:
    """``value`` as ``length`` Crockford base32 characters, most significant first."""
    return "".join(_CROCKFORD[(value >> shift) & 0x1F] for shift in range(5 * (length - 1), -1, -5))


def ulid(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds since the epoch, then 80 random bits."""
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return crockford32((millis << 80) | int.from_bytes(os.urandom(10), "big"), 26)


def ulid_time_prefix(millis: int) -> str:
    """The first 10 characters of every ULID made at ``millis`` (ULIDs sort by time)."""
    return crockford32(millis, 10)


def new_id(prefix: IdPrefix) -> str:
    """``prefix_<ULID>``, e.g. ``req_01JF8RUS1A2B3C4D5E6F7G8H9J``."""
    return f"{prefix}_{ulid()}"
