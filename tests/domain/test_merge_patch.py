"""JSON Merge Patch (RFC 7396) of a user's metadata, without DynamoDB."""

from __future__ import annotations

from umapi.users.profile import merge_metadata


def test_keys_not_named_stay_and_named_ones_are_set() -> None:
    assert merge_metadata({"a": "1", "b": "2"}, {"b": "3", "c": "4"}) == {"a": "1", "b": "3", "c": "4"}


def test_a_null_value_removes_its_key_and_a_missing_key_is_fine() -> None:
    assert merge_metadata({"a": "1", "b": "2"}, {"a": None, "z": None}) == {"b": "2"}


def test_null_metadata_clears_it_all() -> None:
    assert merge_metadata({"a": "1"}, None) == {}


def test_the_current_value_is_not_changed_in_place() -> None:
    current = {"a": "1"}
    merge_metadata(current, {"a": None})
    assert current == {"a": "1"}
