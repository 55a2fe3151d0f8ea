"""Clients in DynamoDB: ``PK=CLIENT#<id>`` (the token endpoint's global look-up), listed per
organization by entries ``PK=ORG#<org>#CLIENTS``, ``SK=<created_at>#<cli>`` written in the
client's own transactions.

The client item also holds its rate-limit window (``umapi.auth.ratelimit``), counted on every
request, so it belongs to no secondary index: on one that projects every attribute (GSI1, where
clients were listed before) each request would pay a second write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from umapi import db
from umapi.audit import AuditEntry
from umapi.clients.entities import Client
from umapi.errors import ConflictError, NotFoundError
from umapi.outbox import audit_put
from umapi.table_keys import CLIENT_SK, client_pk, clients_index_pk, created_sort_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def client_key(client_id: str) -> dict[str, Any]:
    return {"PK": {"S": client_pk(client_id)}, "SK": {"S": CLIENT_SK}}


def _to_item(client: Client) -> dict[str, Any]:
    return db.serialize(
        {
            "PK": client_pk(client.id),
            "SK": CLIENT_SK,
            "entity": "client",
            "id": client.id,
            "org_id": client.org_id,
            "name": client.name,
            "grant_types": client.grant_types,
            "scopes": client.scopes,
            "redirect_uris": client.redirect_uris,
            "post_logout_redirect_uris": client.post_logout_redirect_uris,
            "public": client.public,
            "rate_limit_per_minute": client.rate_limit_per_minute,
            "secret_hash": client.secret_hash,
            "created_at": client.created_at,
            "updated_at": client.updated_at,
            "version": client.version,
            "dashboard": client.dashboard or None,
        }
    )


# Attributes ``_to_item`` leaves out when they are ``None``: a change that clears one removes it.
_OPTIONAL = ("rate_limit_per_minute", "secret_hash")
# Where clients were listed before GSI5 (``scripts/migrate.py client-listing`` moves them); a
# change of a client moves it too.
_FORMER = ("GSI1PK", "GSI1SK")


def listing_entry(client: Client) -> dict[str, Any]:
    """The client's entry in its organization's listing (a serialized item)."""
    return db.serialize(
        {
            "PK": clients_index_pk(client.org_id),
            "SK": created_sort_key(client.created_at, client.id),
            "entity": "client_entry",
            "client_id": client.id,
        }
    )


def client_from_item(item: dict[str, Any]) -> Client:
    values = db.deserialize(item)
    return Client(
        id=values["id"],
        org_id=values["org_id"],
        name=values["name"],
        grant_types=list(values.get("grant_types", [])),
        scopes=list(values.get("scopes", [])),
        redirect_uris=list(values.get("redirect_uris", [])),
        post_logout_redirect_uris=list(values.get("post_logout_redirect_uris", [])),
        public=bool(values.get("public", False)),
        rate_limit_per_minute=values.get("rate_limit_per_minute"),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        version=int(values.get("version", 1)),
        secret_hash=values.get("secret_hash"),
        dashboard=bool(values.get("dashboard", False)),
    )


class ClientRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def get(self, client_id: str, *, consistent: bool = False) -> Client | None:
        """Any organization's client by id (authentication), or ``None``."""
        with db.translate_errors():
            item = self._dynamodb.get_item(TableName=self._table, Key=client_key(client_id), ConsistentRead=consistent)
        return client_from_item(item["Item"]) if "Item" in item else None

    def get_in_org(self, org_id: str, client_id: str) -> Client:
        """The client if it belongs to ``org_id``; another organization's client does not exist here."""
        client = self.get(client_id, consistent=True)
        if client is None or client.org_id != org_id:
            raise NotFoundError(f"Client {client_id} not found.")
        return client

    def create(self, client: Client, audit: AuditEntry) -> None:
        self._transact([*self.create_items(client), audit_put(self._table, audit)], client.id)

    def create_items(self, client: Client) -> list[dict[str, Any]]:
        """The transaction items that create ``client`` (it must not exist) and list it."""
        put = {"TableName": self._table, "Item": _to_item(client), "ConditionExpression": "attribute_not_exists(PK)"}
        return [{"Put": put}, {"Put": {"TableName": self._table, "Item": listing_entry(client)}}]

    def replace(self, client: Client, expected_version: int, audit: AuditEntry) -> None:
        """Write ``client`` over the stored one if nobody changed it since ``expected_version``.
        An update, not a put: the rate-limit window on the item stays (a client cannot empty its
        own window by changing itself)."""
        item = _to_item(client)
        fields = [name for name in item if name not in ("PK", "SK")]
        cleared = [name for name in _OPTIONAL if name not in item] + list(_FORMER)
        names = {f"#{name}": name for name in fields + cleared}
        update = "SET " + ", ".join(f"#{name} = :{name}" for name in fields)
        if cleared:
            update += " REMOVE " + ", ".join(f"#{name}" for name in cleared)
        values = {f":{name}": item[name] for name in fields} | {":expected": {"N": str(expected_version)}}
        change = {
            "TableName": self._table,
            "Key": client_key(client.id),
            "UpdateExpression": update,
            "ConditionExpression": "version = :expected AND #org_id = :org_id",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        self._transact([{"Update": change}, audit_put(self._table, audit)], client.id)

    def delete(self, client: Client, audit: AuditEntry) -> None:
        delete = {
            "TableName": self._table,
            "Key": client_key(client.id),
            "ConditionExpression": "org_id = :org",
            "ExpressionAttributeValues": {":org": {"S": client.org_id}},
        }
        entry = listing_entry(client)
        unlisted = {"Delete": {"TableName": self._table, "Key": {"PK": entry["PK"], "SK": entry["SK"]}}}
        self._transact([{"Delete": delete}, unlisted, audit_put(self._table, audit)], client.id)

    def list_page(
        self, org_id: str, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[Client], dict[str, Any] | None]:
        """Up to ``limit`` clients of ``org_id`` in creation order, and whether more follow: the
        page's entries, then the clients in one consistent ``BatchGetItem``."""
        entries, next_key = db.query_page(
            self._dynamodb,
            {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": clients_index_pk(org_id)}},
                "ConsistentRead": True,
            },
            limit,
            start_key,
            ("PK", "SK"),
        )
        ids = [entry["client_id"]["S"] for entry in entries]
        found = {
            item["id"]["S"]: client_from_item(item)
            for item in db.batch_get(self._dynamodb, self._table, [client_key(i) for i in ids])
        }
        return [found[i] for i in ids if i in found], next_key

    def _transact(self, items: list[dict[str, Any]], client_id: str) -> None:
        try:
            with db.translate_errors():
                self._dynamodb.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if "ConditionalCheckFailed" in db.cancellation_codes(exc)[:1]:
                raise ConflictError(
                    f"Client {client_id} was changed or removed meanwhile; read it again and retry."
                ) from exc
            raise
