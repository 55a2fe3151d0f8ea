"""Organizations in DynamoDB: ``PK=ORG#<id>, SK=ORG``; listed for platform admins on GSI1
(``GSI1PK=ORGS``, by creation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from umapi import db
from umapi.audit import AuditEntry
from umapi.db import GSI1_KEYS
from umapi.errors import ConflictError
from umapi.orgs.entities import Organization
from umapi.outbox import audit_put
from umapi.table_keys import ORG_SK, ORGS_INDEX_PK, created_sort_key, org_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _from_item(item: dict[str, Any]) -> Organization:
    values = db.deserialize(item)
    return Organization(
        id=values["id"], name=values["name"], created_at=values["created_at"], updated_at=values["updated_at"]
    )


class OrgRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def get(self, org_id: str) -> Organization | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key={"PK": {"S": org_pk(org_id)}, "SK": {"S": ORG_SK}}
            ).get("Item")
        return _from_item(item) if item else None

    @property
    def table(self) -> str:
        return self._table

    def create(self, org: Organization, audit: AuditEntry, extra: list[dict[str, Any]] | None = None) -> None:
        """The organization, its audit entry and ``extra`` items (its dashboard client), at once."""
        item = db.serialize(
            {
                "PK": org_pk(org.id),
                "SK": ORG_SK,
                "GSI1PK": ORGS_INDEX_PK,
                "GSI1SK": created_sort_key(org.created_at, org.id),
                "entity": "org",
                "id": org.id,
                "name": org.name,
                "created_at": org.created_at,
                "updated_at": org.updated_at,
            }
        )
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        try:
            with db.translate_errors():
                items: list[Any] = [{"Put": put}, audit_put(self._table, audit), *(extra or [])]
                self._dynamodb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if db.error_code(exc) == "TransactionCanceledException":
                raise ConflictError(f"Organization {org.id} already exists.") from exc
            raise

    def list_page(
        self, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[Organization], dict[str, Any] | None]:
        items, next_key = db.query_page(
            self._dynamodb,
            {
                "TableName": self._table,
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": ORGS_INDEX_PK}},
            },
            limit,
            start_key,
            GSI1_KEYS,
        )
        return [_from_item(item) for item in items], next_key
