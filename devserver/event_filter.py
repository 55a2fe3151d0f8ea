"""Lambda's event filtering (FilterCriteria) for the local runtime's stream and queue pollers.

A mapping's ``FilterCriteria.Filters`` hold JSON patterns; a record reaches the function when
any pattern matches it. A pattern is an object whose leaves are lists of what a field may be:
literal values (strings, numbers, ``null``), or the operators ``{"prefix": "..."}``,
``{"exists": true|false}`` and ``{"anything-but": [...]}``. Those are the ones this runtime
knows; a template using another is refused when it is loaded, so nothing is silently let
through that AWS would drop (or the other way round). (AWS Lambda's developer guide,
"Lambda event filtering", describes the syntax.)
"""

from __future__ import annotations

import json
from typing import Any

OPERATORS = frozenset({"prefix", "exists", "anything-but"})
_MISSING = object()


class UnsupportedFilterError(ValueError):
    pass


def parse_filters(criteria: dict[str, Any]) -> list[dict[str, Any]]:
    """The patterns of a ``FilterCriteria`` property, checked to use only what ``matches`` knows."""
    patterns = []
    for entry in criteria.get("Filters", []):
        pattern = json.loads(entry["Pattern"]) if isinstance(entry["Pattern"], str) else entry["Pattern"]
        _check(pattern)
        patterns.append(pattern)
    return patterns


def _check(pattern: Any) -> None:
    if isinstance(pattern, dict):
        for value in pattern.values():
            _check(value)
    elif isinstance(pattern, list):
        for rule in pattern:
            if isinstance(rule, dict) and not set(rule) <= OPERATORS:
                raise UnsupportedFilterError(f"filter operator(s) {sorted(set(rule) - OPERATORS)} are not supported")
    else:
        raise UnsupportedFilterError(f"a pattern's leaves are lists, not {pattern!r}")


def matches(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether ``record`` passes the filters (no filters: every record does)."""
    return not patterns or any(_matches(pattern, record) for pattern in patterns)


def _matches(pattern: dict[str, Any], value: Any) -> bool:
    for key, rule in pattern.items():
        field = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if isinstance(rule, dict):
            if field is _MISSING or not _matches(rule, field):
                return False
        elif not any(_allows(choice, field) for choice in rule):
            return False
    return True


def _allows(choice: Any, field: Any) -> bool:
    if isinstance(choice, dict):
        if "exists" in choice:
            return (field is not _MISSING) == bool(choice["exists"])
        if field is _MISSING:
            return False
        if "prefix" in choice:
            return isinstance(field, str) and field.startswith(choice["prefix"])
        excluded = choice["anything-but"]
        return field not in (excluded if isinstance(excluded, list) else [excluded])
    return field is not _MISSING and field == choice
