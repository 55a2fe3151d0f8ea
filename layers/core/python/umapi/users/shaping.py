"""The grammar of ``include=`` and ``fields=`` (docs/api.md §4): comma-separated names, spaces
around a name allowed, no empty names; the empty string names nothing. ``pattern_of`` writes the
same grammar as the regular expression the OpenAPI document shows, so a client (or schemathesis)
knows exactly what is accepted."""

from __future__ import annotations

import re
from collections.abc import Iterable

from umapi.errors import ErrorDetail, ValidationError
from umapi.users.models import UserResponse

INCLUDES = ("audit_log", "permissions", "roles")
# A field may name an extra too; it appears when it is included.
FIELDS = tuple(dict.fromkeys([*sorted(UserResponse.model_fields), *INCLUDES]))


def pattern_of(names: Iterable[str]) -> str:
    name = "(" + "|".join(re.escape(n) for n in names) + ")"
    return f"^( *{name} *(, *{name} *)*)?$"


def parse_names(text: str | None, known: tuple[str, ...], parameter: str, code: str) -> set[str]:
    """The names ``text`` lists; a 400 naming the unknown (or empty) ones otherwise."""
    if not text:
        return set()
    parts = [part.strip(" ") for part in text.split(",")]
    unknown = sorted({part for part in parts if part not in known})
    if unknown:
        shown = ", ".join(part or repr(part) for part in unknown)
        raise ValidationError(
            f"{parameter} names something unknown.",
            details=[ErrorDetail(parameter, f"Unknown: {shown}; use {', '.join(known)}.", code)],
        )
    return set(parts)
