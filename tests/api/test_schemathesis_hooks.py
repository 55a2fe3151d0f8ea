"""The one check schemathesis.toml swaps in allows only refusals of server-side data."""

from __future__ import annotations

import json

from tests.support.schemathesis_hooks import refuses_only_data


def envelope(*codes: str) -> bytes:
    details = [{"field": "f", "message": "m", "code": code} for code in codes]
    return json.dumps({"error": {"code": "validation_error", "message": "m", "details": details}}).encode()


def test_refusals_of_values_that_must_exist_are_allowed() -> None:
    assert refuses_only_data("/users", 400, "application/json", envelope("invalid_cursor"))
    assert refuses_only_data("/users", 400, "application/json", envelope("unknown_role", "not_in_future"))
    assert refuses_only_data("/users/{user_id}/roles", 422, "application/json", envelope())
    assert refuses_only_data("/users/{user_id}", 410, "application/json", envelope())  # archived
    page = b"<p>Unknown client_id: this application is not registered.</p>"
    assert refuses_only_data("/oauth/authorize", 400, "text/html; charset=utf-8", page)


def test_refusals_of_the_shape_still_fail() -> None:
    assert not refuses_only_data("/users", 400, "application/json", envelope("value_error"))
    assert not refuses_only_data("/users", 400, "application/json", envelope("invalid_cursor", "value_error"))
    assert not refuses_only_data("/users", 400, "application/json", envelope())  # no reason given
    assert not refuses_only_data("/users", 400, "application/json", b"not json")
    assert not refuses_only_data("/users", 415, "application/json", envelope("invalid_cursor"))
    assert not refuses_only_data("/oauth/authorize", 400, "text/html", b"<p>Parameters must not repeat</p>")
