"""The field types that name a role or an assignment's end, shared by the roles', the
assignments' and the jobs' models without building any of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from umapi.time import parse_rfc3339, to_iso

RoleRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ActorId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(usr|cli)_[0-9A-Za-z]{1,64}$")]


def _future_instant(text: str) -> str:
    """An RFC 3339 instant in the future, as the API writes times (UTC, ms, ``Z``)."""
    value = parse_rfc3339(text)
    if value <= datetime.now(UTC):
        # Its own code: the document can say "a date-time", not "a date-time after now".
        raise PydanticCustomError("not_in_future", "must be in the future")
    return to_iso(value)


ExpiresAt = Annotated[
    str,
    StringConstraints(max_length=40),
    Field(json_schema_extra={"format": "date-time"}),
    AfterValidator(_future_instant),
]
