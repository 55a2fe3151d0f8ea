"""Outbox events as the webhooks see them, in DynamoDB: read, listed, acknowledged, ended.

    event       PK=ORG#<org>#EVENTS   SK=<evt>   GSI1PK=ORG#<org>#EVENTS#STATUS#<status>
                                                 GSI2PK=ORG#<org>#EVENTS#TYPE#<type>

An event is written by the change it records (the outbox, ``umapi.outbox``). The fan-out adds,
on the event, its ``generation``, ``pending_deliveries`` and each delivery's state:
``progress.<whk> = {next_attempt, status}`` (``webhooks.deliveries``). The update that takes
``pending_deliveries`` to 0 ends the event: ``delivered``, or ``failed`` if a delivery failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from umapi import db
from umapi.audit import AuditEntry
from umapi.db import GSI1_KEYS
from umapi.events import Event
from umapi.outbox import audit_put, event_put
from umapi.table_keys import events_pk, events_status_pk, events_type_pk, org_id_of
from umapi.webhooks.entities import DeliveryState, EventStatus, StoredEvent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def event_key(org_id: str, event_id: str) -> dict[str, Any]:
    return {"PK": {"S": events_pk(org_id)}, "SK": {"S": event_id}}


def event_from_item(item: dict[str, Any]) -> StoredEvent:
    v = db.deserialize(item)
    progress = v.get("progress")
    return StoredEvent(
        org_id=org_id_of(str(v["PK"])),
        id=str(v["SK"]),
        type=str(v["type"]),
        status=cast(EventStatus, v["status"]),
        created_at=str(v["created_at"]),
        envelope=dict(v.get("envelope") or {}),
        webhook_id=v.get("webhook_id"),
        fanned_out=bool(v.get("fanned_out")),
        enqueued=bool(v.get("enqueued")),
        generation=str(v.get("generation", "")),
        progress=None
        if progress is None
        else {w: DeliveryState(int(s["next_attempt"]), str(s["status"])) for w, s in progress.items()},
        pending_deliveries=int(v.get("pending_deliveries", 1)),
        failed_deliveries=int(v.get("failed_deliveries", 0)),
        delivery_attempts=tuple(v.get("delivery_attempts") or ()),
        next_retry_at=v.get("next_retry_at"),
        final_delivery_at=v.get("final_delivery_at"),
    )


def state_item(next_attempt: int, status: str) -> dict[str, Any]:
    """A delivery's state on its event: the attempt that comes next, and how it stands."""
    return {"next_attempt": {"N": str(next_attempt)}, "status": {"S": status}}


class EventRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def put(self, event: Event, audit: AuditEntry) -> None:
        db.transact(self._dynamodb, [(event_put(self._table, event), None), (audit_put(self._table, audit), None)])

    def get(self, org_id: str, event_id: str) -> StoredEvent | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=event_key(org_id, event_id), ConsistentRead=True
            ).get("Item")
        return event_from_item(item) if item else None

    def list_page(
        self, org_id: str, status: str | None, event_type: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[StoredEvent], dict[str, Any] | None]:
        """Newest first; ``status`` (GSI1) or else ``type`` (GSI2) reads its own index partition,
        a ``type`` beside a ``status`` is checked on it (within the read budget)."""
        request: dict[str, Any] = {"TableName": self._table, "ScanIndexForward": False}
        if status:
            request |= {
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": events_status_pk(org_id, status)}},
            }
            keys: tuple[str, ...] = GSI1_KEYS
        elif event_type:
            request |= {
                "IndexName": "GSI2",
                "KeyConditionExpression": "GSI2PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": events_type_pk(org_id, event_type)}},
            }
            keys = ("PK", "SK", "GSI2PK", "GSI2SK")
        else:
            request |= {
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": events_pk(org_id)}},
            }
            keys = ("PK", "SK")
        if event_type and status:
            request["FilterExpression"] = "#type = :type"
            request["ExpressionAttributeNames"] = {"#type": "type"}
            request["ExpressionAttributeValues"][":type"] = {"S": event_type}
        items, next_key = db.query_page(
            self._dynamodb, request, limit, start_key, keys, filtered=bool(event_type and status)
        )
        return [event_from_item(item) for item in items], next_key

    def acknowledge(self, org_id: str, event_id: str, now_iso: str) -> bool:
        """Marks a pending or failed event acknowledged; ``False`` if it was neither."""
        ok, _ = db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=event_key(org_id, event_id),
            UpdateExpression="SET #status = :ack, GSI1PK = :pk, acknowledged_at = :now",
            ConditionExpression="attribute_exists(PK) AND #status IN (:pending, :failed)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":ack": {"S": "acknowledged"},
                ":pk": {"S": events_status_pk(org_id, "acknowledged")},
                ":now": {"S": now_iso},
                ":pending": {"S": "pending"},
                ":failed": {"S": "failed"},
            },
        )
        return ok

    def mark_enqueued(self, org_id: str, event_id: str) -> None:
        with db.translate_errors():
            self._dynamodb.update_item(
                TableName=self._table,
                Key=event_key(org_id, event_id),
                UpdateExpression="SET enqueued = :true",
                ExpressionAttributeValues={":true": {"BOOL": True}},
            )

    def finish_if_done(self, event: StoredEvent, now_iso: str) -> None:
        """Ends a pending ``event`` whose last delivery ended: ``delivered``, or ``failed`` if any
        delivery failed. Idempotent: a crash before it is mended by the message's next copy."""
        if event.status != "pending" or event.pending_deliveries > 0:
            return
        final = "failed" if event.failed_deliveries else "delivered"
        org_id = event.org_id
        db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=event_key(org_id, event.id),
            UpdateExpression="SET #status = :final, GSI1PK = :pk, final_delivery_at = :now REMOVE next_retry_at",
            ConditionExpression="#status = :pending AND generation = :g AND pending_deliveries = :zero",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":final": {"S": final},
                ":pk": {"S": events_status_pk(org_id, final)},
                ":now": {"S": now_iso},
                ":pending": {"S": "pending"},
                ":g": {"S": event.generation},
                ":zero": {"N": "0"},
            },
        )
