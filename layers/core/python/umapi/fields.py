"""Validators the API models share, each with the JSON Schema that says what it checks, so the
OpenAPI document accepts exactly what the server does."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

T = TypeVar("T")

# Lists that must not repeat a value: documented as uniqueItems, checked by no_repeats.
UNIQUE_ITEMS: dict[str, Any] = {"uniqueItems": True}
# Names are stripped of surrounding white space and then must not be empty: "something that is
# not white space" (an unanchored pattern).
NOT_BLANK: dict[str, Any] = {"pattern": r"\S"}


def no_repeats(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


def _refuse_null(value: Any) -> Any:
    # Defaults are not validated, so only a null the client sent gets here.
    if value is None:
        raise PydanticCustomError("null_not_allowed", "Cannot be null: leave the field out to keep it.")
    return value


def _without_null(schema: dict[str, Any]) -> None:
    if schema.get("default", ...) is None:
        del schema["default"]
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


# A merge-patch field that may be left out but not cleared: ``name: Omittable[Name] = None``.
Omittable = Annotated[T | None, AfterValidator(_refuse_null), Field(json_schema_extra=_without_null)]

# An http(s) URL as the API takes one (webhook subscriptions, job callbacks); where it may point
# is checked apart (umapi.safe_urls).
Url = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000),
    Field(json_schema_extra={"format": "uri", "pattern": r"^https?://[^\s/?#]+[^\s]*$"}),
]
