"""Custom roles in DynamoDB.

    role          PK=ORG#<org>  SK=ROLE#<role>                 version: bumped by every change
                                                              and by every new holder
    name claim    PK=ORG#<org>  SK=ROLENAME#<name, lower-case>  (attribute_not_exists: unique per org)
    holder        PK=ORG#<org>  SK=HOLDER#<role>#<usr>         expires_at; ttl once it expired

Holder items say who holds a custom role without reading the organization's users. They are
written by ``umapi.users.repository`` in the same transaction as the user's assignment; a new
holder bumps the role's ``version`` on the condition that the role still exists, and a delete
requires the ``version`` it counted holders at, so a role is never deleted while someone gains it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.audit import AuditEntry
from umapi.errors import ConflictError, NotFoundError
from umapi.outbox import audit_put
from umapi.roles.entities import Role
from umapi.table_keys import org_pk, role_holder_sk, role_holders_prefix, role_name_sk, role_sk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def role_key(org_id: str, role_id: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": role_sk(role_id)}}


def _name_claim_key(org_id: str, name: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": role_name_sk(name.lower())}}


def _to_item(role: Role) -> dict[str, Any]:
    return db.serialize(
        {
            "PK": org_pk(role.org_id or ""),
            "SK": role_sk(role.id),
            "entity": "role",
            "id": role.id,
            "org_id": role.org_id,
            "name": role.name,
            "description": role.description,
            "permissions": sorted(role.permissions),
            "created_at": role.created_at,
            "updated_at": role.updated_at,
            "version": role.version,
        }
    )


def role_from_item(item: dict[str, Any]) -> Role:
    v = db.deserialize(item)
    return Role(
        id=v["id"],
        name=v["name"],
        permissions=frozenset(v.get("permissions", [])),
        system=False,
        org_id=v["org_id"],
        description=v.get("description"),
        created_at=v["created_at"],
        updated_at=v["updated_at"],
        version=int(v["version"]),
    )


def _name_taken(name: str) -> ConflictError:
    return ConflictError(
        f"A role named {name!r} already exists in this organization.", context={"conflicting_field": "name"}
    )


class RoleRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    # ------------------------------------------------------------------ reads
    def get(self, org_id: str, role_id: str) -> Role | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=role_key(org_id, role_id), ConsistentRead=True
            ).get("Item")
        return role_from_item(item) if item else None

    def get_many(self, org_id: str, role_ids: set[str]) -> dict[str, Role]:
        """Custom roles by id, in one consistent ``BatchGetItem`` (missing ones are left out)."""
        keys = [role_key(org_id, role_id) for role_id in sorted(role_ids)]
        roles = (role_from_item(item) for item in db.batch_get(self._dynamodb, self._table, keys))
        return {role.id: role for role in roles}

    def list(self, org_id: str) -> list[Role]:
        """Every custom role of the organization (one ``Query`` per MB of roles)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": org_pk(org_id)}, ":prefix": {"S": role_sk("")}},
        }
        roles: list[Role] = []
        while True:
            with db.translate_errors():
                answer = self._dynamodb.query(**request)
            roles += [role_from_item(item) for item in answer["Items"]]
            if "LastEvaluatedKey" not in answer:
                return roles
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def count_holders(self, org_id: str, role_id: str, now_iso: str) -> int:
        """How many users hold ``role_id`` unexpired (archived and purged users hold nothing)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "FilterExpression": "attribute_not_exists(expires_at) OR expires_at > :now",
            "ExpressionAttributeValues": {
                ":pk": {"S": org_pk(org_id)},
                ":prefix": {"S": role_holders_prefix(role_id)},
                ":now": {"S": now_iso},
            },
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        count = 0
        while True:
            with db.translate_errors():
                answer = self._dynamodb.query(**request)
            count += answer["Count"]
            if "LastEvaluatedKey" not in answer:
                return count
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # ------------------------------------------------------------------ writes
    def create(self, role: Role, audit: AuditEntry) -> None:
        put_role = db.put_new(self._table, _to_item(role))
        db.transact(
            self._dynamodb,
            [
                (self._claim_name(role), _name_taken(role.name)),
                (put_role, None),
                (audit_put(self._table, audit), None),
            ],
        )

    def update(self, before: Role, after: Role, audit: AuditEntry) -> None:
        put_role = db.at_version("Put", self._table, before.version, Item=_to_item(after))
        items: list[db.Guarded] = [(put_role, self._changed_meanwhile(before)), (audit_put(self._table, audit), None)]
        if after.name.lower() != before.name.lower():
            release = {"Delete": {"TableName": self._table, "Key": _name_claim_key(before.org_id or "", before.name)}}
            items += [(self._claim_name(after), _name_taken(after.name)), (release, None)]
        db.transact(self._dynamodb, items)

    def delete(self, role: Role, audit: AuditEntry) -> None:
        """Deletes the role if nothing changed since it was read at ``role.version`` (no new holder)."""
        delete_role = db.at_version("Delete", self._table, role.version, Key=role_key(role.org_id or "", role.id))
        release = {"Delete": {"TableName": self._table, "Key": _name_claim_key(role.org_id or "", role.name)}}
        db.transact(
            self._dynamodb,
            [(delete_role, self._changed_meanwhile(role)), (release, None), (audit_put(self._table, audit), None)],
        )

    # ------------------------------------------------------------------ holders (in users' transactions)
    def holder_put(self, org_id: str, role_id: str, user_id: str, expires_at: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {
            "PK": org_pk(org_id),
            "SK": role_holder_sk(role_id, user_id),
            "entity": "role_holder",
            "role_id": role_id,
            "user_id": user_id,
            "expires_at": expires_at,
        }
        if expires_at is not None:  # an expired holder grants nothing; TTL tidies it away a day later
            values["ttl"] = int(datetime.fromisoformat(expires_at).timestamp()) + 86_400
        return {"Put": {"TableName": self._table, "Item": db.serialize(values)}}

    def holder_delete(self, org_id: str, role_id: str, user_id: str) -> dict[str, Any]:
        key = {"PK": {"S": org_pk(org_id)}, "SK": {"S": role_holder_sk(role_id, user_id)}}
        return {"Delete": {"TableName": self._table, "Key": key}}

    def still_exists(self, org_id: str, role_id: str) -> db.Guarded:
        """Bumps the role's version, on the condition that it still exists: a role gains holders
        only while it exists, and a concurrent delete fails."""
        update = {
            "Update": {
                "TableName": self._table,
                "Key": role_key(org_id, role_id),
                "UpdateExpression": "SET version = version + :one",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
        return update, NotFoundError(f"Role {role_id} not found.")

    # ------------------------------------------------------------------ plumbing
    def _claim_name(self, role: Role) -> dict[str, Any]:
        claim = {
            "PK": org_pk(role.org_id or ""),
            "SK": role_name_sk(role.name.lower()),
            "entity": "role_name",
            "role_id": role.id,
        }
        return db.put_new(self._table, db.serialize(claim))

    @staticmethod
    def _changed_meanwhile(role: Role) -> ConflictError:
        return ConflictError(f"Role {role.id} changed meanwhile; read it again and retry.")
