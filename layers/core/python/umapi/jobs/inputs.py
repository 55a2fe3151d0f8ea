"""Reading a job's input (docs/api.md §10), streamed: JSONL (one JSON object per line; blank lines
are not rows) or CSV (a header row naming the fields, then one row per record).

The planner reads the whole object once, in pieces, and notes where each chunk of rows
starts and ends (byte offsets); a worker reads only its chunk's bytes. Nothing holds the
whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from umapi.jobs.entities import MAX_UPLOAD_BYTES
from umapi.text import JsonTextError, parse_json
from umapi.users.models import CreateUserRequest, UpdateUserRequest

BOM = codecs.BOM_UTF8
# A cell may be as long as the file: a long value is its row's validation error, never the file's.
csv.field_size_limit(MAX_UPLOAD_BYTES)

# The columns a csv may have, per job type (the fields of the row's synchronous request).
CSV_COLUMNS = {
    "bulk_user_create": frozenset(CreateUserRequest.model_fields),
    "bulk_user_update": frozenset({"id"} | set(UpdateUserRequest.model_fields)),
    "bulk_role_assignment": frozenset({"user_id"}),
}
REQUIRED_COLUMNS = {
    "bulk_user_create": ("email", "name"),
    "bulk_user_update": ("id",),
    "bulk_role_assignment": ("user_id",),
}


class UnreadableInputError(ValueError):
    """The input cannot be read as its format: the job fails and no row is applied."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RowError(ValueError):
    """One row that is not a row of its format (not JSON, wrong number of cells)."""


def lines(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a byte stream, each with its ``\\n`` (the last one may have none)."""
    rest = b""
    for piece in pieces:
        rest += piece
        start = 0
        while (end := rest.find(b"\n", start)) >= 0:
            yield rest[start : end + 1]
            start = end + 1
        rest = rest[start:]
    if rest:
        yield rest


class _Decoded:
    """Lines as text for ``csv.reader``, counting the bytes it has taken."""

    def __init__(self, raw: Iterator[bytes]) -> None:
        self._raw = raw
        self.position = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._raw:
            self.position += len(line)
            yield decode(line)


def decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableInputError("unreadable_input", "The file is not UTF-8 text.") from None


def records(fmt: str, pieces: Iterable[bytes], *, offset: int = 0) -> Iterator[tuple[int, int, Any]]:
    """``(start, end, record)`` for every record: a line's text (jsonl) or a list of cells
    (csv, the header first), with the byte range it came from (``offset`` added)."""
    raw = lines(pieces)
    if fmt == "jsonl":
        position = offset
        for line in raw:
            start, position = position, position + len(line)
            text = decode(line.removeprefix(BOM) if start == 0 else line)
            if text.strip():
                yield start, position, text
        return
    decoded = _Decoded(raw)
    reader = csv.reader(decoded, strict=True)
    start = 0
    try:
        for record in reader:
            end = decoded.position
            if start == 0 and record and offset == 0:
                record[0] = record[0].removeprefix("\ufeff")
            if record:  # a blank line is no record
                yield offset + start, offset + end, record
            start = end
    except csv.Error as exc:
        raise UnreadableInputError("unreadable_input", f"The file is not valid CSV: {exc}.") from None


def check_header(job_type: str, header: list[str]) -> list[str]:
    """The csv's columns, or ``UnreadableInputError`` naming what is wrong with them. Linear in
    the header's length: more columns than the type has fields fail at once, uncounted."""
    allowed = CSV_COLUMNS[job_type]
    if len(header) > len(allowed):
        raise UnreadableInputError(
            "invalid_columns",
            f"The header has {len(header):,} columns; a {job_type} file has at most {len(allowed)}"
            f" ({', '.join(sorted(allowed))}).",
        )
    columns = [name.strip() for name in header]
    unknown = sorted({_shown(name) for name in columns if name not in allowed})
    if unknown:
        raise UnreadableInputError(
            "invalid_columns",
            f"Unknown column(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.",
        )
    repeated = sorted(name for name, count in Counter(columns).items() if count > 1)
    if repeated:
        raise UnreadableInputError("invalid_columns", f"Repeated column(s): {', '.join(repeated)}.")
    missing = [name for name in REQUIRED_COLUMNS[job_type] if name not in columns]
    if missing:
        raise UnreadableInputError("invalid_columns", f"Missing column(s): {', '.join(missing)}.")
    return columns


def _shown(name: str) -> str:
    return name if len(name) <= 64 else name[:63] + "…"


def row_of(fmt: str, record: Any, columns: list[str] | None) -> dict[str, Any]:
    """One record as the row object it stands for; ``RowError`` if it is not one: not JSON, too
    deep, a number too long, text that is not valid Unicode, not an object, the wrong cells."""
    if fmt == "jsonl":
        try:
            value = parse_json(record)
        except JsonTextError as exc:
            raise RowError(f"The line is not valid JSON: {exc.reason}") from None
        if not isinstance(value, dict):
            raise RowError("The line is not a JSON object.")
        return value
    assert columns is not None
    if len(record) != len(columns):
        raise RowError(f"The row has {len(record)} cells; the header names {len(columns)} columns.")
    row: dict[str, Any] = {}
    for name, cell in zip(columns, record, strict=True):
        if cell == "":
            continue  # an empty cell leaves the field out
        if name == "metadata":
            try:
                row[name] = parse_json(cell)
            except JsonTextError as exc:
                raise RowError(f"The metadata cell is not a JSON object: {exc.reason}") from None
        elif name == "send_welcome_email":
            if cell.lower() not in ("true", "false"):
                raise RowError("send_welcome_email must be true or false.")
            row[name] = cell.lower() == "true"
        else:
            row[name] = cell
    return row
