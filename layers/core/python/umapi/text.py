"""Text that came from outside: JSON every later step can handle, and a safe rendering of what
cannot be (docs/api.md §8, §10).

A request body and a job's row pass the same checks (``parse_json``): nesting no deeper than
``MAX_JSON_DEPTH`` (checked in time linear in the text, before ``json.loads`` could exhaust the
stack), numbers Python can convert, and strings that are valid Unicode text (a lone surrogate
such as ``"\\ud800"`` is valid JSON but cannot be stored, hashed or logged as UTF-8).
``safe_text`` renders any value so that it can be stored and shown: surrogates escaped, long
strings cut.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_JSON_DEPTH = 32  # no request model nests deeper than a few levels; DynamoDB allows 32
SAFE_TEXT_CHARS = 200  # a hostile value shown in an error is cut to this length

_JSON_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKETS = re.compile(r"[\[\]{}]")


class JsonTextError(ValueError):
    """Text that is not JSON this API can read; ``reason`` says why, for a 400's details."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_text(value: str) -> bool:
    """Whether ``value`` is valid Unicode text (encodable as UTF-8: no lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def well_formed(value: str, limit: int) -> bool:
    """A credential parameter that may reach a key, a hash or a log line: at most ``limit``
    characters of valid text (docs/api.md §1)."""
    return len(value) <= limit and is_text(value)


def parse_json(text: str, *, text_only: bool = True) -> Any:
    """``text`` parsed, or ``JsonTextError``: too deep, not JSON, a number too long, or
    (``text_only``) a string that is not valid text."""
    brackets = _JSON_BRACKETS.findall(_JSON_STRINGS.sub("", text))
    if brackets and max(accumulate(1 if b in "[{" else -1 for b in brackets)) > MAX_JSON_DEPTH:
        raise JsonTextError(f"nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonTextError(f"{exc.msg} at position {exc.pos}.") from None
    except (ValueError, RecursionError):  # e.g. an integer of thousands of digits
        raise JsonTextError("a number is too long.") from None
    # Text that came in as UTF-8 holds a surrogate only through a \u escape.
    if text_only and "\\u" in text and not is_text(json.dumps(parsed, ensure_ascii=False)):
        raise JsonTextError("a string is not valid Unicode text (a lone surrogate).")
    return parsed


def safe_text(value: str, limit: int = SAFE_TEXT_CHARS) -> str:
    """``value`` as text that can be stored and shown: surrogates escaped (``\\ud800``), cut to
    ``limit`` characters (marked with an ellipsis)."""
    rendered = value if is_text(value) else value.encode("utf-8", "backslashreplace").decode("utf-8")
    return rendered if len(rendered) <= limit else rendered[: limit - 1] + "…"


def safe(value: Any, limit: int = SAFE_TEXT_CHARS) -> Any:
    """``safe_text`` over every string (keys too) of a JSON-like value."""
    if isinstance(value, str):
        return safe_text(value, limit)
    if isinstance(value, dict):
        return {safe_text(str(k), limit): safe(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe(v, limit) for v in value]
    return value
