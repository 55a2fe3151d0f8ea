"""Each event's deliveries, one per matching subscription, in DynamoDB.

    delivery    PK=ORG#<org>#DELIVERIES   SK=<evt>#<whk>   one per (event, subscription)

A delivery item holds what only its own messages touch: the lease of the attempt being posted
and the attempt whose message is queued. Its state (``next_attempt``, ``status``) lives on its
event (``progress.<whk>``), so the event answers how its deliveries stand in one read.

An attempt is recorded by one conditional ``UpdateItem`` of the event, never a transaction:
the condition (``progress.<whk>.next_attempt`` is still this attempt, same generation) makes a
repeated or concurrent copy record nothing; the same update appends to ``delivery_attempts``,
moves the delivery's state and, when the delivery ends, ``ADD``s ``pending_deliveries -1``.
Single-item updates of one event by its 25 concurrent deliveries are serialized by DynamoDB
and none fails because another landed first (a transaction would be cancelled by the
conflict).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.errors import NotFoundError
from umapi.outbox import DAY
from umapi.settings import get_retention
from umapi.table_keys import deliveries_pk, delivery_sk, events_status_pk
from umapi.time import epoch_seconds
from umapi.webhooks.entities import Delivery, DeliveryState, StoredEvent, Webhook
from umapi.webhooks.event_store import EventRepository, event_from_item, event_key, state_item
from umapi.webhooks.subscriptions import webhook_from_item, webhook_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from umapi.sealing import Sealer


def delivery_key(org_id: str, event_id: str, webhook_id: str) -> dict[str, Any]:
    return {"PK": {"S": deliveries_pk(org_id)}, "SK": {"S": delivery_sk(event_id, webhook_id)}}


def delivery_from_item(item: dict[str, Any], event: StoredEvent | None) -> Delivery:
    """The delivery item with its state from the event. A delivery of another generation than
    the event's (a redelivery started over) keeps what its item says."""
    v = db.deserialize(item)
    state = DeliveryState(int(v.get("next_attempt", 1)), str(v.get("status", "pending")))
    if event is not None and event.generation == v["generation"]:
        state = (event.progress or {}).get(v["webhook_id"], state)
    return Delivery(
        org_id=v["org_id"],
        event_id=v["event_id"],
        webhook_id=v["webhook_id"],
        generation=v["generation"],
        status=state.status,
        next_attempt=state.next_attempt,
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


class DeliveryRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str, sealer: Sealer, events: EventRepository) -> None:
        """``sealer`` opens a subscription's secrets; ``events`` ends an event whose last
        delivery ended."""
        self._dynamodb = dynamodb
        self._table = table
        self._sealer = sealer
        self._events = events

    def start(self, org_id: str, event_id: str, webhook_ids: list[str], generation: str, *, first: bool) -> bool:
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
            ":progress": {"M": {w: {"M": state_item(1, "pending")} for w in webhook_ids}},
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

    def of(self, event: StoredEvent) -> list[Delivery]:
        """The deliveries of ``event``, in one consistent ``Query``."""
        org_id, event_id = event.org_id, event.id
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

    def load(
        self, org_id: str, event_id: str, webhook_id: str
    ) -> tuple[Delivery | None, StoredEvent | None, Webhook | None]:
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
                event = event_from_item(item)
            elif entity == "webhook":
                webhook = webhook_from_item(item, self._sealer)
        if event is not None and event.fanned_out and event.progress is None:
            event = self._adopt(event)
        delivery = delivery_from_item(delivery_item, event) if delivery_item else None
        return delivery, event, webhook

    def _adopt(self, event: StoredEvent) -> StoredEvent | None:
        """An event fanned out before deliveries' state lived on the event (their items held it):
        copy it over once, then carry on as for any event."""
        deliveries = self.of(event)
        generations = {d.generation for d in deliveries}
        progress = {d.webhook_id: state_item(d.next_attempt, d.status) for d in deliveries}
        db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=event_key(event.org_id, event.id),
            UpdateExpression="SET progress = :progress, generation = :g",
            ConditionExpression="attribute_not_exists(progress)",
            ExpressionAttributeValues={
                ":progress": {"M": {w: {"M": state} for w, state in progress.items()}},
                ":g": {"S": generations.pop() if len(generations) == 1 else ""},
            },
        )
        return self._events.get(event.org_id, event.id)

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
            ":state": {"M": state_item(k + 1, outcome)},
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
        self._events.finish_if_done(event_from_item(answer["Attributes"]), now_iso)
        return True

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
