"""Reading the audit log (``GET /audit-log``, ``include=audit_log``): newest first, per organization.

Entries are keyed by time-ordered ids, so ``since``/``until`` are key ranges; ``actor_id`` and
``target_id`` use GSI1 and GSI2; ``action`` filters within those reads.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

from pydantic import WithJsonSchema

from umapi import db
from umapi.access.principal import Principal
from umapi.api_model import ApiModel
from umapi.ids import ulid_time_prefix
from umapi.pagination import CursorCodec, Page
from umapi.table_keys import audit_action_pk, audit_actor_pk, audit_pk, audit_target_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class AuditActorOrTarget(ApiModel):
    type: str
    id: str


# What ``changes`` holds: per field ``{from, to}``, or the value an action carried (a login's
# client_id, a suspension's reason). Documented exactly; read back as stored.
_AUDIT_VALUE: dict[str, Any] = {
    "anyOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}},
        {  # metadata, or a marker such as {"changed": true} for a value never shown (a password)
            "type": "object",
            "additionalProperties": {
                "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]
            },
        },
        {"type": "null"},
    ]
}
AUDIT_CHANGES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "per changed field {from, to}, or the value the action carried",
    "additionalProperties": {
        "anyOf": [
            {
                "type": "object",
                "properties": {"from": _AUDIT_VALUE, "to": _AUDIT_VALUE},
                "required": ["from", "to"],
            },
            *_AUDIT_VALUE["anyOf"],
        ]
    },
}


class AuditEntryResponse(ApiModel):
    """One audit-log entry (docs/api.md §4): who did what to what, and from where; never a secret."""

    id: str
    actor: AuditActorOrTarget
    action: str
    target: AuditActorOrTarget
    changes: Annotated[dict[str, Any], WithJsonSchema(AUDIT_CHANGES_SCHEMA)]
    request_id: str | None
    ip: str | None
    user_agent: str | None
    job_id: str | None = None  # the job whose row made the change (docs/api.md §10)
    created_at: str


ENTRY_FIELDS = (
    "id",
    "actor",
    "action",
    "target",
    "changes",
    "request_id",
    "ip",
    "user_agent",
    "job_id",
    "created_at",
)


def _time_prefix(moment: datetime) -> str:
    """The first 10 ULID characters (48-bit milliseconds) of ``moment``."""
    return ulid_time_prefix(int(moment.timestamp() * 1000))


class AuditQuery(NamedTuple):
    limit: int
    cursor: str | None
    actor_id: str | None
    target_id: str | None
    action: str | None
    since: datetime | None
    until: datetime | None


class AuditLogReader:
    def __init__(self, dynamodb: DynamoDBClient, table: str, cursors: CursorCodec) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._cursors = cursors

    def list_page(self, principal: Principal, query: AuditQuery) -> Page[dict[str, Any]]:
        principal.require("audit:read")
        org = principal.org_id
        if query.actor_id:
            index, pk_name, sk_name, pk = "GSI1", "GSI1PK", "GSI1SK", audit_actor_pk(org, query.actor_id)
        elif query.target_id:
            index, pk_name, sk_name, pk = "GSI2", "GSI2PK", "GSI2SK", audit_target_pk(org, query.target_id)
        elif query.action:
            index, pk_name, sk_name, pk = "GSI3", "GSI3PK", "GSI3SK", audit_action_pk(org, query.action)
        else:
            index, pk_name, sk_name, pk = "", "PK", "SK", audit_pk(org)
        low = f"aud_{_time_prefix(query.since)}" if query.since else "aud_"
        high = f"aud_{_time_prefix(query.until)}Z" if query.until else "aud_~"
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": f"{pk_name} = :pk AND {sk_name} BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
            "ScanIndexForward": False,
        }
        if index:
            request["IndexName"] = index
        filters = []
        if query.action and index != "GSI3":  # another index leads: the action is checked on it
            filters.append("#action = :action")
            request["ExpressionAttributeNames"] = {"#action": "action"}
            request["ExpressionAttributeValues"][":action"] = {"S": query.action}
        if query.actor_id and query.target_id:
            filters.append("target.id = :target")
            request["ExpressionAttributeValues"][":target"] = {"S": query.target_id}
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        listing = "audit:" + json.dumps([org, query.actor_id, query.target_id, query.action, low, high])
        start = self._cursors.decode(query.cursor, listing) if query.cursor else None
        key_names = ("PK", "SK") if not index else ("PK", "SK", pk_name, sk_name)
        items, next_key = db.query_page(self._dynamodb, request, query.limit, start, key_names, filtered=bool(filters))
        return Page[dict[str, Any]](
            data=[self._entry(item) for item in items],
            pagination=self._cursors.page_info(query.limit, next_key, listing),
        )

    def recent_for_target(self, org_id: str, target_id: str, limit: int = 20) -> list[dict[str, Any]]:
        with db.translate_errors():
            items = self._dynamodb.query(
                TableName=self._table,
                IndexName="GSI2",
                KeyConditionExpression="GSI2PK = :pk",
                ExpressionAttributeValues={":pk": {"S": audit_target_pk(org_id, target_id)}},
                ScanIndexForward=False,
                Limit=limit,
            )["Items"]
        return [self._entry(item) for item in items]

    @staticmethod
    def _entry(item: dict[str, Any]) -> dict[str, Any]:
        values = db.deserialize(item)
        return {name: values.get(name) for name in ENTRY_FIELDS} | {"changes": values.get("changes") or {}}
