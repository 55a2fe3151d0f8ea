"""Users in DynamoDB.

    user            PK=ORG#<org>  SK=USER#<usr>
    email claim     PK=ORG#<org>  SK=EMAIL#<email, lower-case>   (attribute_not_exists: unique per org)
    listings        GSI1..GSI4    PK=ORG#<org>#USERS[#ARCHIVED]  SK=<created_at|name|email|last_login>#<usr>
    by id           GSI5          PK=USER#<usr>                  (platform admins across organizations)
    verification    PK=VERIFY#<sha256(token)>  SK=VERIFY         (single use: deleted on a condition)

Every change goes out in one transaction with its audit entry and its outbox event; the user's
``version`` guards against lost updates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from umapi import db
from umapi.audit import AuditEntry
from umapi.errors import ConflictError
from umapi.events import Event
from umapi.keys import (
    email_claim_sk,
    org_pk,
    user_lookup_pk,
    user_sk,
    users_index_pk,
    verification_pk,
)
from umapi.users.models import RoleAssignment, User

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class UserFilters:
    status: str | None = None
    role_id: str | None = None
    department: str | None = None
    search: str | None = None


# Sort field -> (index, how the sort key starts)
SORT_INDEXES: dict[str, tuple[str, Callable[[User], str]]] = {
    "created_at": ("GSI1", lambda user: user.created_at),
    "name": ("GSI2", lambda user: user.name.lower()),
    "email": ("GSI3", lambda user: user.email_key),
    "last_login": ("GSI4", lambda user: user.last_login or ""),
}
VERIFY_SK = "VERIFY"

# A transaction item, and the error to raise if its condition fails (None: a generic conflict).
Guarded = tuple[dict[str, Any], Exception | None]


def user_key(org_id: str, user_id: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": user_sk(user_id)}}


def _to_item(user: User) -> dict[str, Any]:
    partition = users_index_pk(user.org_id, archived=user.status == "archived")
    values: dict[str, Any] = {
        "PK": org_pk(user.org_id),
        "SK": user_sk(user.id),
        "GSI5PK": user_lookup_pk(user.id),
        "entity": "user",
        "id": user.id,
        "org_id": user.org_id,
        "email": user.email,
        "email_key": user.email_key,
        "name": user.name,
        "name_key": user.name.lower(),
        "status": user.status,
        "email_verified": user.email_verified,
        "pending_email": user.pending_email,
        "phone": user.phone,
        "department": user.department,
        "avatar_url": user.avatar_url,
        "metadata": user.metadata,
        "roles": [
            {
                "role_id": r.role_id,
                "assigned_at": r.assigned_at,
                "expires_at": r.expires_at,
                "assigned_by": r.assigned_by,
            }
            for r in user.roles
        ],
        "role_ids": [r.role_id for r in user.roles],
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login": user.last_login,
        "archived_at": user.archived_at,
        "version": user.version,
        "password_hash": user.password_hash,
        "sessions_valid_after": user.sessions_valid_after,
    }
    for index, start in SORT_INDEXES.values():
        values[f"{index}PK"] = partition
        values[f"{index}SK"] = f"{start(user)}#{user.id}"
    return db.serialize(values)


def user_from_item(item: dict[str, Any]) -> User:
    v = db.deserialize(item)
    return User(
        id=v["id"],
        org_id=v["org_id"],
        email=v["email"],
        name=v["name"],
        status=v["status"],
        email_verified=bool(v.get("email_verified")),
        created_at=v["created_at"],
        updated_at=v["updated_at"],
        roles=tuple(
            RoleAssignment(r["role_id"], r["assigned_at"], r.get("expires_at"), r.get("assigned_by"))
            for r in v.get("roles", [])
        ),
        pending_email=v.get("pending_email"),
        phone=v.get("phone"),
        department=v.get("department"),
        avatar_url=v.get("avatar_url"),
        metadata=dict(v.get("metadata") or {}),
        last_login=v.get("last_login"),
        archived_at=v.get("archived_at"),
        version=int(v.get("version", 1)),
        password_hash=v.get("password_hash"),
        sessions_valid_after=v.get("sessions_valid_after"),
    )


class UserRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    # ------------------------------------------------------------------ reads
    def get(self, org_id: str, user_id: str, *, consistent: bool = False) -> User | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=user_key(org_id, user_id), ConsistentRead=consistent
            ).get("Item")
        return user_from_item(item) if item else None

    def find_org(self, user_id: str) -> str | None:
        """The organization holding ``user_id`` (GSI5, keys only), for platform admins."""
        with db.translate_errors():
            items = self._dynamodb.query(
                TableName=self._table,
                IndexName="GSI5",
                KeyConditionExpression="GSI5PK = :pk",
                ExpressionAttributeValues={":pk": {"S": user_lookup_pk(user_id)}},
                Limit=1,
            )["Items"]
        return items[0]["PK"]["S"].removeprefix("ORG#") if items else None

    def list_page(
        self,
        org_id: str,
        *,
        archived: bool,
        sort: str,
        descending: bool,
        limit: int,
        start_key: dict[str, Any] | None,
        filters: UserFilters,
    ) -> tuple[list[User], dict[str, Any] | None]:
        """A full page of ``limit`` matching users in ``sort`` order, and the key to resume after it."""
        index = SORT_INDEXES[sort][0]
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": f"{index}PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": users_index_pk(org_id, archived=archived)}},
            "ScanIndexForward": not descending,
        }
        conditions = []
        if filters.status:
            conditions.append("#status = :status")
            request["ExpressionAttributeValues"][":status"] = {"S": filters.status}
            request["ExpressionAttributeNames"] = {"#status": "status"}
        if filters.role_id:
            conditions.append("contains(role_ids, :role)")
            request["ExpressionAttributeValues"][":role"] = {"S": filters.role_id}
        if filters.department:
            conditions.append("department = :department")
            request["ExpressionAttributeValues"][":department"] = {"S": filters.department}
        if filters.search:
            conditions.append("(contains(name_key, :search) OR contains(email_key, :search))")
            request["ExpressionAttributeValues"][":search"] = {"S": filters.search.lower()}
        if conditions:
            request["FilterExpression"] = " AND ".join(conditions)
        items, next_key = db.query_page(
            self._dynamodb,
            request,
            limit,
            start_key,
            ("PK", "SK", f"{index}PK", f"{index}SK"),
            filtered=bool(conditions),
        )
        return [user_from_item(item) for item in items], next_key

    # ------------------------------------------------------------------ writes
    def create(self, user: User, audit: AuditEntry, event: Event, extra: list[Guarded]) -> None:
        taken = ConflictError(
            f"A user with email {user.email} already exists in this organization.",
            context={"conflicting_field": "email"},
        )
        put = {
            "Put": {"TableName": self._table, "Item": _to_item(user), "ConditionExpression": "attribute_not_exists(PK)"}
        }
        self._transact(
            [
                (self.claim_email(user.org_id, user.email_key, user.id), taken),
                (put, self._changed_meanwhile(user)),
                (audit.transact_put(self._table), None),
                (event.transact_put(self._table), None),
                *extra,
            ]
        )

    def save(
        self,
        user: User,
        expected_version: int,
        audit: AuditEntry,
        events: list[Event] | None = None,
        extra: list[Guarded] | None = None,
    ) -> None:
        """Replace the user if nobody changed it since ``expected_version``, with its audit entry,
        its events and any ``extra`` items, all or nothing."""
        put = {
            "Put": {
                "TableName": self._table,
                "Item": _to_item(user),
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        }
        self._transact(
            [
                (put, self._changed_meanwhile(user)),
                (audit.transact_put(self._table), None),
                *((event.transact_put(self._table), None) for event in events or []),
                *(extra or []),
            ]
        )

    def put_with_audit(self, item: dict[str, Any], audit: AuditEntry) -> None:
        self._transact([(item, None), (audit.transact_put(self._table), None)])

    def put_audit(self, audit: AuditEntry) -> None:
        """An audit entry on its own (an event with no state change, e.g. a detected token reuse)."""
        self._transact([(audit.transact_put(self._table), None)])

    def email_taken(self, org_id: str, email_key: str) -> bool:
        with db.translate_errors():
            return "Item" in self._dynamodb.get_item(
                TableName=self._table, Key=self.email_claim_key(org_id, email_key), ConsistentRead=True
            )

    def purge(self, user: User, audit: AuditEntry, event: Event) -> None:
        """Delete the user and free its email; the audit entries stay."""
        delete_user = {
            "Delete": {
                "TableName": self._table,
                "Key": user_key(user.org_id, user.id),
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(user.version)}},
            }
        }
        delete_claim = {"Delete": {"TableName": self._table, "Key": self.email_claim_key(user.org_id, user.email_key)}}
        self._transact(
            [
                (delete_user, self._changed_meanwhile(user)),
                (delete_claim, None),
                (audit.transact_put(self._table), None),
                (event.transact_put(self._table), None),
            ]
        )

    def email_claim_key(self, org_id: str, email_key: str) -> dict[str, Any]:
        return {"PK": {"S": org_pk(org_id)}, "SK": {"S": email_claim_sk(email_key)}}

    def claim_email(self, org_id: str, email_key: str, user_id: str) -> dict[str, Any]:
        """The transaction item that takes ``email_key`` for ``user_id`` (fails if taken)."""
        return {
            "Put": {
                "TableName": self._table,
                "Item": db.serialize(
                    {"PK": org_pk(org_id), "SK": email_claim_sk(email_key), "entity": "email_claim", "user_id": user_id}
                ),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def release_email(self, org_id: str, email_key: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self._table, "Key": self.email_claim_key(org_id, email_key)}}

    # ------------------------------------------------------------------ verification tokens
    def verification_put(self, token_hash: str, values: dict[str, Any]) -> dict[str, Any]:
        item = {"PK": verification_pk(token_hash), "SK": VERIFY_SK, "entity": "verification", **values}
        return {"Put": {"TableName": self._table, "Item": db.serialize(item)}}

    def get_verification(self, token_hash: str) -> dict[str, Any] | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table,
                Key={"PK": {"S": verification_pk(token_hash)}, "SK": {"S": VERIFY_SK}},
                ConsistentRead=True,
            ).get("Item")
        return db.deserialize(item) if item else None

    def verification_consume(self, token_hash: str, now_epoch: int) -> dict[str, Any]:
        """Deletes the token only if it still exists and has not expired: single use."""
        return {
            "Delete": {
                "TableName": self._table,
                "Key": {"PK": {"S": verification_pk(token_hash)}, "SK": {"S": VERIFY_SK}},
                "ConditionExpression": "attribute_exists(PK) AND expires_epoch > :now",
                "ExpressionAttributeValues": {":now": {"N": str(now_epoch)}},
            }
        }

    # ------------------------------------------------------------------ plumbing
    @staticmethod
    def _changed_meanwhile(user: User) -> Exception:
        return ConflictError(f"User {user.id} was changed meanwhile; read it again and retry.")

    def _transact(self, items: list[Guarded]) -> None:
        try:
            with db.translate_errors():
                self._dynamodb.transact_write_items(TransactItems=[item for item, _ in items])  # type: ignore[misc]
        except ClientError as exc:
            for (_, error), reason in zip(items, db.cancellation_codes(exc), strict=False):
                if reason == "ConditionalCheckFailed":
                    raise (error or ConflictError("The change conflicted with another; retry.")) from exc
            raise
