"""Time in the contract's format: RFC 3339, UTC, millisecond precision, ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    return to_iso(utc_now())


def epoch_seconds() -> float:
    return time.time()
