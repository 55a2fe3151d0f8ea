"""Audit entries and webhook events expire by TTL after AUDIT_RETENTION_DAYS and
EVENT_RETENTION_DAYS (docs/api.md §4, §7), as the template configures them."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from devserver.template import Template
from tests.support.backend import REGION
from tests.support.users import Tenant
from umapi.time import parse_rfc3339

DAY = 86_400


def items_of(entity: str, since: float) -> list[dict[str, Any]]:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    return [
        item
        for item in dynamodb.scan(TableName="Table")["Items"]
        if item.get("entity", {}).get("S") == entity and parse_rfc3339(item["created_at"]["S"]).timestamp() >= since
    ]


def test_entries_and_events_carry_their_expiry(acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "7")
    monkeypatch.setenv("EVENT_RETENTION_DAYS", "2")
    since = time.time() - 0.01  # what the tenant's set-up wrote before is kept the default 365 days
    acme.api.post(
        "/webhooks", token=acme.access, json_body={"url": "https://hooks.example.com/x", "events": ["user.created"]}
    )
    acme.user("kept@example.com")
    audits, events = items_of("audit", since), items_of("event", since)
    assert audits
    assert events
    for item, days in [*((a, 7) for a in audits), *((e, 2) for e in events)]:
        written = parse_rfc3339(item["created_at"]["S"]).timestamp()
        assert int(item["ttl"]["N"]) == int(written) + days * DAY


def test_the_template_sets_both_with_the_contract_defaults(template: Template) -> None:
    parameters = template.body["Parameters"]
    assert parameters["AuditRetentionDays"]["Default"] == 365
    assert parameters["EventRetentionDays"]["Default"] == 35
    variables = template.body["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["AUDIT_RETENTION_DAYS"] == {"Ref": "AuditRetentionDays"}
    assert variables["EVENT_RETENTION_DAYS"] == {"Ref": "EventRetentionDays"}
