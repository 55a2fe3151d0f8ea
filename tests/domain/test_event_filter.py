"""The local runtime's Lambda event filtering (devserver.event_filter), without moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from devserver.event_filter import UnsupportedFilterError, matches, parse_filters
from devserver.template import Template
from umapi.webhooks.fanout import outbox_event

ROOT = Path(__file__).resolve().parents[2]


def record(event_name: str, entity: str | None) -> dict[str, object]:
    image = {"PK": {"S": "X"}, **({"entity": {"S": entity}} if entity else {})}
    return {"eventName": event_name, "dynamodb": {"NewImage": image}}


def test_literals_prefix_exists_and_anything_but() -> None:
    [pattern] = parse_filters({"Filters": [{"Pattern": '{"a": ["x", 1], "b": {"c": [{"prefix": "ev"}]}}'}]})
    assert matches([pattern], {"a": "x", "b": {"c": "event"}})
    assert matches([pattern], {"a": 1, "b": {"c": "evt"}})
    assert not matches([pattern], {"a": "y", "b": {"c": "event"}})
    assert not matches([pattern], {"a": "x", "b": {"c": "user"}})
    assert not matches([pattern], {"a": "x"})
    [exists] = parse_filters({"Filters": [{"Pattern": '{"a": [{"exists": false}], "b": [{"anything-but": ["z"]}]}'}]})
    assert matches([exists], {"b": "y"})
    assert not matches([exists], {"a": 1, "b": "y"})
    assert not matches([exists], {"b": "z"})
    assert matches([], {"anything": True})  # no filters: everything passes


def test_operators_it_does_not_know_are_refused() -> None:
    with pytest.raises(UnsupportedFilterError):
        parse_filters({"Filters": [{"Pattern": '{"a": [{"numeric": [">", 1]}]}'}]})


def test_the_fan_out_gets_exactly_the_records_it_would_act_on() -> None:
    template = Template.load(ROOT / "template.yaml")
    stream = template.body["Resources"]["WebhookFanoutFunction"]["Properties"]["Events"]["TableStream"]
    filters = parse_filters(stream["Properties"]["FilterCriteria"])
    cases = [
        record("INSERT", "event"),
        record("MODIFY", "event"),
        record("INSERT", "user"),
        record("INSERT", "rate_window"),
        record("INSERT", None),
        record("REMOVE", "event"),
    ]
    for case in cases:
        assert matches(filters, case) == (outbox_event(case) is not None), case
