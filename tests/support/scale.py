"""Organizations of many users and a long history, written straight into the table as the API
writes them (the same items and listing entries, by batch writes: the write path is not what
the scale tests and ``make bench`` measure). One of everything is rare, so each filter has
one match among N."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from tests.support.backend import REGION
from umapi import db
from umapi.audit import Actor, AuditEntry, RequestMeta
from umapi.events import Event
from umapi.ids import new_id
from umapi.outbox import audit_put, event_put
from umapi.table_keys import events_status_pk
from umapi.time import utc_now_iso
from umapi.users.entities import RoleAssignment, User
from umapi.users.entries import listing_entries
from umapi.users.items import user_item

RARE_NAME = "Zed Quixote"
RARE_DEPARTMENT = "Rare"
RARE_ACTION = "role.removed"  # one audit entry and one event of it; the rest are user.created


def _write(items: list[dict[str, Any]], table: str, progress: Callable[[int], None] | None) -> None:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})
        if progress:
            progress(min(start + 25, len(items)))


def seed_users(
    org_id: str,
    count: int,
    rare_role: str = "role_viewer",
    table: str = "Table",
    progress: Callable[[int], None] | None = None,
) -> None:
    """``count`` users; the one in the middle is rare: suspended, in department Rare, named Zed
    Quixote (``zq<n>@rare.example``), holding ``rare_role``. The others are active members of Ops."""
    items = []
    for index in range(count):
        rare = index == count // 2
        now = utc_now_iso()
        user = User(
            id=new_id("usr"),
            org_id=org_id,
            email=f"zq{index}@rare.example" if rare else f"user{index:05d}@example.com",
            name=RARE_NAME if rare else f"User {index:05d}",
            status="suspended" if rare else "active",
            email_verified=True,
            created_at=now,
            updated_at=now,
            roles=(RoleAssignment(rare_role if rare else "role_member", now),),
            department=RARE_DEPARTMENT if rare else "Ops",
        )
        items.append(user_item(user))
        items += [db.serialize(entry) for entry in listing_entries(user).values()]
    _write(items, table, progress)


def seed_history(org_id: str, count: int, table: str = "Table") -> None:
    """``count`` audit entries and events (``user.created``, delivered); the one in the middle is
    a ``role.removed`` of each (``RARE_ACTION``), and that event ``failed``."""
    actor = Actor("client", "cli_seed")
    meta = RequestMeta(request_id=new_id("req"))
    items = []
    for index in range(count):
        rare = index == count // 2
        action = RARE_ACTION if rare else "user.created"
        audit = AuditEntry.new(org_id, actor, action, "user", new_id("usr"), meta)
        items.append(audit_put(table, audit)["Put"]["Item"])
        outbox = Event.new(org_id=org_id, type=action, data={}, meta=meta, actor_id=actor.id)
        event = event_put(table, outbox)["Put"]["Item"]
        status = "failed" if rare else "delivered"
        event |= {"status": {"S": status}, "GSI1PK": {"S": events_status_pk(org_id, status)}}
        items.append(event)
    _write(items, table, None)
