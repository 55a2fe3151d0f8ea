"""Webhook subscriptions, events and deliveries in DynamoDB.

    webhook     PK=ORG#<org>               SK=WEBHOOK#<whk>      GSI1PK=ORG#<org>#WEBHOOKS (by creation)
    event       PK=ORG#<org>#EVENTS        SK=<evt>              GSI1PK=ORG#<org>#EVENTS#STATUS#<status>
    delivery    PK=ORG#<org>#DELIVERIES    SK=<evt>#<whk>        one per (event, subscription)

An event is written by the change it records (the outbox). The fan-out adds one delivery per
matching subscription and, on the event, its ``generation``, ``pending_deliveries`` and each
delivery's state: ``progress.<whk> = {next_attempt, status}``. A delivery item holds what only
its own messages touch: the lease of the attempt being posted and the attempt whose message is
queued.

An attempt is recorded by one conditional ``UpdateItem`` of the event, never a transaction:
the condition (``progress.<whk>.next_attempt`` is still this attempt, same generation) makes a
repeated or concurrent copy record nothing; the same update appends to ``delivery_attempts``,
moves the delivery's state and, when the delivery ends, ``ADD``s ``pending_deliveries -1``.
Single-item updates of one event by its 25 concurrent deliveries are serialized by DynamoDB
and none fails because another landed first (a transaction would be cancelled by the
conflict). The update that takes ``pending_deliveries`` to 0 ends the event (``delivered``, or
``failed`` if a delivery failed) with one more conditional update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.audit import AuditEntry
from umapi.db import GSI1_KEYS
from umapi.errors import ConflictError, NotFoundError
from umapi.events import Event
from umapi.outbox import DAY, audit_put, event_put
from umapi.settings import get_retention
from umapi.table_keys import (
    created_sort_key,
    deliveries_pk,
    delivery_sk,
    events_pk,
    events_status_pk,
    events_type_pk,
    org_id_of,
    org_pk,
    webhook_sk,
    webhooks_index_pk,
)
from umapi.time import epoch_seconds
from umapi.webhooks.models import Webhook

SECRET_PURPOSE = "webhook-secret"  # noqa: S105 - the HKDF purpose, not a secret

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from umapi.sealing import Sealer


def webhook_key(org_id: str, webhook_id: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": webhook_sk(webhook_id)}}


def event_key(org_id: str, event_id: str) -> dict[str, Any]:
    return {"PK": {"S": events_pk(org_id)}, "SK": {"S": event_id}}


def delivery_key(org_id: str, event_id: str, webhook_id: str) -> dict[str, Any]:
    return {"PK": {"S": deliveries_pk(org_id)}, "SK": {"S": delivery_sk(event_id, webhook_id)}}


def _seal_secret(sealer: Sealer, webhook_id: str, secret: str | None) -> str | None:
    """Secrets are stored encrypted (the delivery needs them to sign), bound to their webhook."""
    return sealer.seal(SECRET_PURPOSE, secret.encode(), webhook_id) if secret else None


def _open_secret(sealer: Sealer, webhook_id: str, sealed: str | None) -> str | None:
    return sealer.open(SECRET_PURPOSE, sealed, webhook_id).decode() if sealed else None


def _to_item(webhook: Webhook, sealer: Sealer) -> dict[str, Any]:
    return db.serialize(
        {
            "PK": org_pk(webhook.org_id),
            "SK": webhook_sk(webhook.id),
            "GSI1PK": webhooks_index_pk(webhook.org_id),
            "GSI1SK": created_sort_key(webhook.created_at, webhook.id),
            "entity": "webhook",
            "id": webhook.id,
            "org_id": webhook.org_id,
            "url": webhook.url,
            "events": list(webhook.events),
            "description": webhook.description,
            "active": webhook.active,
            "secret_sealed": _seal_secret(sealer, webhook.id, webhook.secret),
            "previous_secret_sealed": _seal_secret(sealer, webhook.id, webhook.previous_secret),
            "previous_secret_until": webhook.previous_secret_until,
            "secret_rotated_at": webhook.secret_rotated_at,
            "created_at": webhook.created_at,
            "updated_at": webhook.updated_at,
            "version": webhook.version,
        }
    )


def webhook_from_item(item: dict[str, Any], sealer: Sealer) -> Webhook:
    v = db.deserialize(item)
    return Webhook(
        id=v["id"],
        org_id=v["org_id"],
        url=v["url"],
        events=tuple(v.get("events", [])),
        active=bool(v["active"]),
        secret=_open_secret(sealer, v["id"], v["secret_sealed"]) or "",
        created_at=v["created_at"],
        updated_at=v["updated_at"],
        description=v.get("description"),
        previous_secret=_open_secret(sealer, v["id"], v.get("previous_secret_sealed")),
        previous_secret_until=v.get("previous_secret_until"),
        secret_rotated_at=v.get("secret_rotated_at"),
        version=int(v.get("version", 1)),
    )


@dataclass(frozen=True)
class Delivery:
    """One event's delivery to one subscription: which attempt comes next, and how it ended."""

    org_id: str
    event_id: str
    webhook_id: str
    generation: str  # a redelivery starts a new generation; older messages are ignored
    status: str  # pending | delivered | failed | cancelled
    next_attempt: int
    scheduled_attempt: int  # the attempt whose message is known to be queued (crash recovery)


def delivery_from_item(item: dict[str, Any], event: dict[str, Any] | None) -> Delivery:
    """The delivery item with its state from the event (``event``: deserialized). A delivery of
    another generation than the event's (a redelivery started over) keeps what its item says."""
    v = db.deserialize(item)
    state = {"next_attempt": v.get("next_attempt", 1), "status": v.get("status", "pending")}
    if event is not None and event.get("generation") == v["generation"]:
        state = (event.get("progress") or {}).get(v["webhook_id"], state)
    return Delivery(
        org_id=v["org_id"],
        event_id=v["event_id"],
        webhook_id=v["webhook_id"],
        generation=v["generation"],
        status=str(state["status"]),
        next_attempt=int(state["next_attempt"]),
        scheduled_attempt=int(v.get("scheduled_attempt", 0)),
    )


def new_delivery_put(table: str, org_id: str, event_id: str, webhook_id: str, generation: str) -> dict[str, Any]:
    item = {
        "PK": deliveries_pk(org_id),
        "SK": delivery_sk(event_id, webhook_id),
        "entity": "delivery",
        "org_id": org_id,
        "event_id": event_id,
        "webhook_id": webhook_id,
        "generation": generation,
        "scheduled_attempt": 0,
        "ttl": int(epoch_seconds()) + get_retention().event_days * DAY,  # kept as long as events
    }
    return {"Put": {"TableName": table, "Item": db.serialize(item)}}


class WebhookRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str, sealer: Sealer) -> None:
        self._sealer = sealer
        self._dynamodb = dynamodb
        self._table = table

    # ------------------------------------------------------------------ subscriptions
    def get(self, org_id: str, webhook_id: str) -> Webhook | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=webhook_key(org_id, webhook_id), ConsistentRead=True
            ).get("Item")
        return webhook_from_item(item, self._sealer) if item else None

    def all_of(self, org_id: str) -> list[Webhook]:
        """Every subscription of the organization (the fan-out picks the matching ones)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": org_pk(org_id)}, ":prefix": {"S": webhook_sk("")}},
            "ConsistentRead": True,
        }
        webhooks: list[Webhook] = []
        while True:
            with db.translate_errors():
                answer = self._dynamodb.query(**request)
            webhooks += [webhook_from_item(item, self._sealer) for item in answer["Items"]]
            if "LastEvaluatedKey" not in answer:
                return webhooks
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def list_page(
        self, org_id: str, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[Webhook], dict[str, Any] | None]:
        request = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": webhooks_index_pk(org_id)}},
            "ScanIndexForward": False,
        }
        items, next_key = db.query_page(self._dynamodb, request, limit, start_key, GSI1_KEYS)
        return [webhook_from_item(item, self._sealer) for item in items], next_key

    def create(self, webhook: Webhook, audit: AuditEntry) -> None:
        put = db.put_new(self._table, _to_item(webhook, self._sealer))
        db.transact(self._dynamodb, [(put, None), (audit_put(self._table, audit), None)])

    def update(self, before: Webhook, after: Webhook, audit: AuditEntry) -> None:
        put = db.at_version("Put", self._table, before.version, Item=_to_item(after, self._sealer))
        db.transact(self._dynamodb, [(put, _changed(before)), (audit_put(self._table, audit), None)])

    def delete(self, webhook: Webhook, audit: AuditEntry) -> None:
        delete = {
            "Delete": {
                "TableName": self._table,
                "Key": webhook_key(webhook.org_id, webhook.id),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }
        db.transact(self._dynamodb, [(delete, _changed(webhook)), (audit_put(self._table, audit), None)])

    # ------------------------------------------------------------------ events
    def put_event(self, event: Event, audit: AuditEntry) -> None:
        db.transact(self._dynamodb, [(event_put(self._table, event), None), (audit_put(self._table, audit), None)])

    def get_event(self, org_id: str, event_id: str) -> dict[str, Any] | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=event_key(org_id, event_id), ConsistentRead=True
            ).get("Item")
        return db.deserialize(item) if item else None

    def list_events(
        self, org_id: str, status: str | None, event_type: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
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
        return [db.deserialize(item) for item in items], next_key

    def deliveries_of(self, event: dict[str, Any]) -> list[Delivery]:
        """The deliveries of ``event`` (as ``get_event`` answers it), in one consistent ``Query``."""
        org_id, event_id = org_id_of(str(event["PK"])), str(event["SK"])
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": deliveries_pk(org_id)},
                ":prefix": {"S": f"{event_id}#"},
            },
            "ConsistentRead": True,
        }
        with db.translate_errors():
            return [delivery_from_item(item, event) for item in self._dynamodb.query(**request)["Items"]]

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

    # ------------------------------------------------------------------ fan-out
    def start_deliveries(
        self, org_id: str, event_id: str, webhook_ids: list[str], generation: str, *, first: bool
    ) -> bool:
        """One delivery per subscription and the event's pending count, in one transaction.
        ``first`` (the fan-out): only if the event was not fanned out yet, else ``False``.
        Otherwise (a redelivery): the event starts over, whatever its status."""
        status = "pending" if webhook_ids else "delivered"
        values: dict[str, Any] = {
            ":n": {"N": str(len(webhook_ids))},
            ":zero": {"N": "0"},
            ":status": {"S": status},
            ":pk": {"S": events_status_pk(org_id, status)},
            ":true": {"BOOL": True},
            ":g": {"S": generation},
            ":progress": {"M": {w: {"M": _state(1, "pending")} for w in webhook_ids}},
        }
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": event_key(org_id, event_id),
            "UpdateExpression": (
                "SET pending_deliveries = :n, failed_deliveries = :zero, #status = :status, GSI1PK = :pk, "
                "fanned_out = :true, generation = :g, progress = :progress "
                "REMOVE next_retry_at, final_delivery_at, enqueued"
            ),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(fanned_out)"
            if first
            else "attribute_exists(PK)",
        }
        puts = [(new_delivery_put(self._table, org_id, event_id, w, generation), None) for w in webhook_ids]
        failed = db.transact_failures(self._dynamodb, [{"Update": update}, *(item for item, _ in puts)])
        if failed and not first:
            raise NotFoundError(f"Event {event_id} not found.")
        return not failed

    def mark_enqueued(self, org_id: str, event_id: str) -> None:
        with db.translate_errors():
            self._dynamodb.update_item(
                TableName=self._table,
                Key=event_key(org_id, event_id),
                UpdateExpression="SET enqueued = :true",
                ExpressionAttributeValues={":true": {"BOOL": True}},
            )

    # ------------------------------------------------------------------ delivery
    def load_for_delivery(
        self, org_id: str, event_id: str, webhook_id: str
    ) -> tuple[Delivery | None, dict[str, Any] | None, Webhook | None]:
        """The delivery, its event and its subscription, in one consistent ``BatchGetItem``."""
        keys = [
            delivery_key(org_id, event_id, webhook_id),
            event_key(org_id, event_id),
            webhook_key(org_id, webhook_id),
        ]
        delivery_item, event, webhook = None, None, None
        for item in db.batch_get(self._dynamodb, self._table, keys):
            entity = item.get("entity", {}).get("S")
            if entity == "delivery":
                delivery_item = item
            elif entity == "event":
                event = db.deserialize(item)
            elif entity == "webhook":
                webhook = webhook_from_item(item, self._sealer)
        if event is not None and event.get("fanned_out") and "progress" not in event:
            event = self._adopt(event)
        delivery = delivery_from_item(delivery_item, event) if delivery_item else None
        return delivery, event, webhook

    def _adopt(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """An event fanned out before deliveries' state lived on the event (their items held it):
        copy it over once, then carry on as for any event."""
        deliveries = self.deliveries_of(event)
        generations = {d.generation for d in deliveries}
        progress = {d.webhook_id: _state(d.next_attempt, d.status) for d in deliveries}
        db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=event_key(org_id_of(str(event["PK"])), str(event["SK"])),
            UpdateExpression="SET progress = :progress, generation = :g",
            ConditionExpression="attribute_not_exists(progress)",
            ExpressionAttributeValues={
                ":progress": {"M": {w: {"M": state} for w, state in progress.items()}},
                ":g": {"S": generations.pop() if len(generations) == 1 else ""},
            },
        )
        return self.get_event(org_id_of(str(event["PK"])), str(event["SK"]))

    def lease(self, delivery: Delivery, now: float, seconds: float) -> bool:
        """Takes attempt ``delivery.next_attempt`` for ``seconds`` so a duplicate message does not
        post it twice (a lease of an earlier attempt does not hold the next one up)."""
        ok, _ = db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=delivery_key(delivery.org_id, delivery.event_id, delivery.webhook_id),
            UpdateExpression="SET lease_until = :until, lease_attempt = :k",
            ConditionExpression=(
                "generation = :g AND (attribute_not_exists(lease_until) OR lease_until < :now OR lease_attempt < :k)"
            ),
            ExpressionAttributeValues={
                ":until": {"N": repr(now + seconds)},
                ":g": {"S": delivery.generation},
                ":k": {"N": str(delivery.next_attempt)},
                ":now": {"N": repr(now)},
            },
        )
        return ok

    def record_attempt(
        self,
        delivery: Delivery,
        attempt: dict[str, Any],
        outcome: str,
        next_retry_at: str | None,
        now_iso: str,
    ) -> bool:
        """Records attempt ``delivery.next_attempt`` on the event: one conditional ``UpdateItem``
        (and one more for the delivery that ends the event). ``outcome``: ``pending`` (another
        attempt follows), ``delivered``, ``failed`` or ``cancelled``. ``False`` if this attempt
        was recorded already (a duplicate) or belongs to an older generation."""
        k = delivery.next_attempt
        sets = [
            "progress.#whk = :state",
            "delivery_attempts = list_append(if_not_exists(delivery_attempts, :empty), :attempt)",
        ]
        values: dict[str, Any] = {
            ":state": {"M": _state(k + 1, outcome)},
            ":empty": {"L": []},
            ":attempt": {"L": [{"M": db.serialize(attempt)}]},
            ":g": {"S": delivery.generation},
            ":k": {"N": str(k)},
        }
        if next_retry_at:
            sets.append("next_retry_at = :retry")
            values[":retry"] = {"S": next_retry_at}
        update = "SET " + ", ".join(sets)
        if outcome != "pending":  # this delivery ends
            update += " ADD pending_deliveries :minus_one" + (", failed_deliveries :one" if outcome == "failed" else "")
            values[":minus_one"] = {"N": "-1"}
            if outcome == "failed":
                values[":one"] = {"N": "1"}
        recorded, answer = db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=event_key(delivery.org_id, delivery.event_id),
            UpdateExpression=update,
            ConditionExpression="generation = :g AND progress.#whk.next_attempt = :k",
            ExpressionAttributeNames={"#whk": delivery.webhook_id},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        if not recorded:
            return False
        self.finish_if_done(db.deserialize(answer["Attributes"]), now_iso)
        return True

    def finish_if_done(self, event: dict[str, Any], now_iso: str) -> None:
        """Ends a pending ``event`` whose last delivery ended: ``delivered``, or ``failed`` if any
        delivery failed. Idempotent: a crash before it is mended by the message's next copy."""
        if event.get("status") != "pending" or int(event.get("pending_deliveries", 1)) > 0:
            return
        final = "failed" if int(event.get("failed_deliveries", 0)) else "delivered"
        org_id = org_id_of(str(event["PK"]))
        db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=event_key(org_id, str(event["SK"])),
            UpdateExpression="SET #status = :final, GSI1PK = :pk, final_delivery_at = :now REMOVE next_retry_at",
            ConditionExpression="#status = :pending AND generation = :g AND pending_deliveries = :zero",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":final": {"S": final},
                ":pk": {"S": events_status_pk(org_id, final)},
                ":now": {"S": now_iso},
                ":pending": {"S": "pending"},
                ":g": {"S": str(event.get("generation", ""))},
                ":zero": {"N": "0"},
            },
        )

    def mark_scheduled(self, delivery: Delivery, attempt: int) -> None:
        """Notes that the message of ``attempt`` is queued (a redelivery may have started over)."""
        db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=delivery_key(delivery.org_id, delivery.event_id, delivery.webhook_id),
            UpdateExpression="SET scheduled_attempt = :k",
            ConditionExpression="generation = :g",
            ExpressionAttributeValues={":k": {"N": str(attempt)}, ":g": {"S": delivery.generation}},
        )


def _state(next_attempt: int, status: str) -> dict[str, Any]:
    """A delivery's state on its event: the attempt that comes next, and how it stands."""
    return {"next_attempt": {"N": str(next_attempt)}, "status": {"S": status}}


def _changed(webhook: Webhook) -> ConflictError:
    return ConflictError(f"Webhook {webhook.id} changed meanwhile; read it again and retry.")
