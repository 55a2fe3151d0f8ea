"""SSO connections and their domains' claims (docs/api.md §12).

    connection     PK=ORG#<org>#SSO          SK=<connection id>   the connection
    domain claim   PK=SSODOMAIN#<domain>     SK=SSODOMAIN         {org_id, connection_id}

A domain belongs to at most one connection across all organizations: its claim is written with
``attribute_not_exists`` in the same transaction as the connection, and removed (on the
condition that it is still this connection's) when the connection gives the domain up or is
deleted. Home-realm discovery is one ``GetItem`` of the claim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from umapi import db
from umapi.audit import AuditEntry
from umapi.errors import ConflictError, PreconditionFailedError
from umapi.outbox import audit_put
from umapi.sso.entities import SsoConnection
from umapi.table_keys import sso_connections_pk, sso_domain_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CLAIM_SK = "SSODOMAIN"


class DomainOwner(NamedTuple):
    org_id: str
    connection_id: str


def connection_key(org_id: str, connection_id: str) -> dict[str, Any]:
    return {"PK": {"S": sso_connections_pk(org_id)}, "SK": {"S": connection_id}}


def claim_key(domain: str) -> dict[str, Any]:
    return {"PK": {"S": sso_domain_pk(domain)}, "SK": {"S": CLAIM_SK}}


def _to_item(connection: SsoConnection) -> dict[str, Any]:
    values = connection._asdict()
    values["domains"] = list(connection.domains)
    values["ceiling"] = None if connection.ceiling is None else list(connection.ceiling)
    return {**connection_key(connection.org_id, connection.id), **db.serialize({"entity": "sso_connection", **values})}


def connection_from_item(item: dict[str, Any]) -> SsoConnection:
    values = db.deserialize(item)
    return SsoConnection(
        **{
            name: values[name]
            for name in SsoConnection._fields
            if name not in ("domains", "version", "ceiling", "userinfo_endpoint")
        },
        userinfo_endpoint=values.get("userinfo_endpoint"),
        domains=tuple(values.get("domains", [])),
        version=int(values.get("version", 1)),
        ceiling=tuple(values["ceiling"]) if values.get("ceiling") is not None else None,
    )


class SsoRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def get(self, org_id: str, connection_id: str) -> SsoConnection | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=connection_key(org_id, connection_id), ConsistentRead=True
            ).get("Item")
        return connection_from_item(item) if item else None

    def domain_owner(self, domain: str) -> DomainOwner | None:
        """Which connection claims ``domain`` (any organization's), if any."""
        with db.translate_errors():
            item = self._dynamodb.get_item(TableName=self._table, Key=claim_key(domain)).get("Item")
        return DomainOwner(item["org_id"]["S"], item["connection_id"]["S"]) if item else None

    def list_page(
        self, org_id: str, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[SsoConnection], dict[str, Any] | None]:
        items, next_key = db.query_page(
            self._dynamodb,
            {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": sso_connections_pk(org_id)}},
                "ConsistentRead": True,
            },
            limit,
            start_key,
            ("PK", "SK"),
        )
        return [connection_from_item(item) for item in items], next_key

    def create(self, connection: SsoConnection, audit: AuditEntry) -> None:
        put = {
            "TableName": self._table,
            "Item": _to_item(connection),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        db.transact(
            self._dynamodb,
            [
                ({"Put": put}, None),
                *(self._claim(connection, domain) for domain in connection.domains),
                (audit_put(self._table, audit), None),
            ],
        )

    def replace(self, current: SsoConnection, updated: SsoConnection, audit: AuditEntry) -> None:
        """``updated`` in place of ``current`` if nobody changed it since (else 412), with the
        claims of the domains it gained and without those it gave up."""
        put = {
            "TableName": self._table,
            "Item": _to_item(updated),
            "ConditionExpression": "version = :seen",
            "ExpressionAttributeValues": {":seen": {"N": str(current.version)}},
        }
        changed = PreconditionFailedError(f"SSO connection {current.id} changed meanwhile; read it again.")
        gained = [domain for domain in updated.domains if domain not in current.domains]
        given_up = [domain for domain in current.domains if domain not in updated.domains]
        db.transact(
            self._dynamodb,
            [
                ({"Put": put}, changed),
                *(self._claim(updated, domain) for domain in gained),
                *(self._release(current, domain) for domain in given_up),
                (audit_put(self._table, audit), None),
            ],
        )

    def delete(self, connection: SsoConnection, audit: AuditEntry) -> None:
        delete = {
            "TableName": self._table,
            "Key": connection_key(connection.org_id, connection.id),
            "ConditionExpression": "version = :seen",
            "ExpressionAttributeValues": {":seen": {"N": str(connection.version)}},
        }
        changed = PreconditionFailedError(f"SSO connection {connection.id} changed meanwhile; read it again.")
        db.transact(
            self._dynamodb,
            [
                ({"Delete": delete}, changed),
                *(self._release(connection, domain) for domain in connection.domains),
                (audit_put(self._table, audit), None),
            ],
        )

    def _claim(self, connection: SsoConnection, domain: str) -> db.Guarded:
        item = {
            **claim_key(domain),
            **db.serialize({"entity": "sso_domain", "org_id": connection.org_id, "connection_id": connection.id}),
        }
        taken = ConflictError(
            f"The domain {domain} belongs to another SSO connection.", context={"conflicting_field": "domains"}
        )
        return {
            "Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
        }, taken

    def _release(self, connection: SsoConnection, domain: str) -> db.Guarded:
        delete = {
            "TableName": self._table,
            "Key": claim_key(domain),
            "ConditionExpression": "connection_id = :id",
            "ExpressionAttributeValues": {":id": {"S": connection.id}},
        }
        return {"Delete": delete}, None
