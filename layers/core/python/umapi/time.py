"""Time in the API's format: RFC 3339, UTC, millisecond precision, ``Z``."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

# RFC 3339 §5.6 date-time: a full date, "T" (any case), a time with optional fraction, and an
# offset ("Z", any case, or ±hh:mm). Exactly what JSON Schema's "date-time" format means.
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    return to_iso(utc_now())


def epoch_seconds() -> float:
    return time.time()


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time as an aware ``datetime`` in UTC; ``ValueError`` for anything else.

    Python's ``fromisoformat`` reads more (no offset, a space for "T", week dates) and less (a
    leap second, ``z``, year 0) than RFC 3339; this reads exactly the format. A leap second
    (``:60``) is the last instant of its minute; instants outside Python's range (year 0, or an
    offset past 9999-12-31) are its first or last instant.
    """
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError("must be an RFC 3339 date-time such as 2030-01-31T12:00:00Z")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zulu, sign, offset_hours, offset_minutes = match.groups()[6:]
    if not zulu and (int(offset_hours) > 23 or int(offset_minutes) > 59):
        raise ValueError("must be an RFC 3339 date-time: the offset is out of range")
    delta = timedelta() if zulu else timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
    leap = second == 60
    try:  # year 0 is checked as 2000: both are leap years of the same 400-year cycle
        local = datetime(year or 2000, month, day, hour, minute, 59 if leap else second)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time: no such date or time") from None
    if year == 0:
        return datetime.min.replace(tzinfo=UTC)
    micro = 999_999 if leap else int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return (local.replace(microsecond=micro) - (-delta if sign == "-" else delta)).replace(tzinfo=UTC)
    except OverflowError:
        return (datetime.min if sign == "+" else datetime.max).replace(tzinfo=UTC)
