"""Webhook subscriptions in DynamoDB.

    webhook     PK=ORG#<org>   SK=WEBHOOK#<whk>   GSI1PK=ORG#<org>#WEBHOOKS (by creation)

Signing secrets are stored sealed (the delivery needs them to sign), bound to their webhook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.audit import AuditEntry
from umapi.db import GSI1_KEYS
from umapi.errors import ConflictError
from umapi.outbox import audit_put
from umapi.table_keys import created_sort_key, org_pk, webhook_sk, webhooks_index_pk
from umapi.webhooks.entities import Webhook

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from umapi.sealing import Sealer

SECRET_PURPOSE = "webhook-secret"  # noqa: S105 - the HKDF purpose, not a secret


def webhook_key(org_id: str, webhook_id: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": webhook_sk(webhook_id)}}


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


class WebhookRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str, sealer: Sealer) -> None:
        self._sealer = sealer
        self._dynamodb = dynamodb
        self._table = table

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


def _changed(webhook: Webhook) -> ConflictError:
    return ConflictError(f"Webhook {webhook.id} changed meanwhile; read it again and retry.")
