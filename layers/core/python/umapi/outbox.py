"""The stored form of audit entries and outbox events: what every repository puts in the same
transaction as the change they record (docs/api.md §4, §7). The entities (``AuditEntry``,
``Event``) know nothing of DynamoDB; this module alone turns them into items.

    audit entry   PK=ORG#<org>#AUDIT  SK=<aud id>   GSI1 by actor, GSI2 by target, GSI3 by action
    event         PK=ORG#<org>#EVENTS SK=<evt id>   GSI1 by status (pending first), GSI2 by type

Both expire by TTL: audit entries ``AUDIT_RETENTION_DAYS`` after they were written, events
``EVENT_RETENTION_DAYS`` (docs/api.md §4, §7).
"""

from __future__ import annotations

from typing import Any

from umapi import db
from umapi.audit import AuditEntry
from umapi.events import Event
from umapi.settings import get_retention
from umapi.table_keys import (
    audit_action_pk,
    audit_actor_pk,
    audit_pk,
    audit_target_pk,
    events_pk,
    events_status_pk,
    events_type_pk,
)
from umapi.time import parse_rfc3339

DAY = 86_400


def expires(created_at: str, days: int) -> int:
    """The TTL (epoch seconds) of an item written at ``created_at`` and kept ``days``."""
    return int(parse_rfc3339(created_at).timestamp()) + days * DAY


def audit_put(table: str, entry: AuditEntry) -> dict[str, Any]:
    """The ``Put`` of an audit entry for a ``TransactWriteItems`` call."""
    item = {
        "PK": audit_pk(entry.org_id),
        "SK": entry.id,
        "GSI1PK": audit_actor_pk(entry.org_id, entry.actor.id),
        "GSI1SK": entry.id,
        "GSI2PK": audit_target_pk(entry.org_id, entry.target_id),
        "GSI2SK": entry.id,
        "GSI3PK": audit_action_pk(entry.org_id, entry.action),
        "GSI3SK": entry.id,
        "entity": "audit",
        "id": entry.id,
        "org_id": entry.org_id,
        "actor": {"type": entry.actor.type, "id": entry.actor.id},
        "action": entry.action,
        "target": {"type": entry.target_type, "id": entry.target_id},
        "changes": entry.changes,
        "request_id": entry.meta.request_id,
        "ip": entry.meta.ip,
        "user_agent": entry.meta.user_agent,
        "job_id": entry.meta.job_id,
        "created_at": entry.created_at,
        "ttl": expires(entry.created_at, get_retention().audit_days),
    }
    return db.put_new(table, db.serialize(item))


def event_put(table: str, event: Event) -> dict[str, Any]:
    """The ``Put`` of an outbox event (``pending``) for a ``TransactWriteItems`` call."""
    item = {
        "PK": events_pk(event.org_id),
        "SK": event.id,
        "GSI1PK": events_status_pk(event.org_id, "pending"),
        "GSI1SK": event.id,
        "GSI2PK": events_type_pk(event.org_id, event.type),
        "GSI2SK": event.id,
        "entity": "event",
        "status": "pending",
        "type": event.type,
        "envelope": event.envelope(),
        "webhook_id": event.webhook_id,
        "created_at": event.created_at,
        "ttl": expires(event.created_at, get_retention().event_days),
    }
    return db.put_new(table, db.serialize(item))
