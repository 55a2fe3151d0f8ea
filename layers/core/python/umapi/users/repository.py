"""Users in DynamoDB: reading them (one, many, pages led by an index or an entry partition), and
the writes every part of the user service makes, through one ``UserWriter``.

Keys and items are ``users.items``; search and filter entries ``users.entries``. Every change
goes out in one transaction with its audit entry and its outbox event; the user's ``version``
guards against lost updates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.audit import AuditEntry
from umapi.db import Guarded
from umapi.events import Event
from umapi.outbox import audit_put
from umapi.roles.entities import Role
from umapi.roles.repository import RoleRepository, role_from_item, role_key
from umapi.table_keys import org_id_of, user_lookup_pk, user_search_pk, users_filter_pk, users_index_pk, verification_pk
from umapi.time import utc_now_iso
from umapi.users.admin_roster import AdminRoster, RosterState, roster_from_item, roster_key
from umapi.users.entities import User
from umapi.users.entries import Lead, UserFilters, answers_search
from umapi.users.items import (
    SORT_INDEXES,
    VERIFY_SK,
    claim_email,
    email_claim_key,
    release_email,
    user_from_item,
    user_key,
    verification_key,
)
from umapi.users.search import normalize
from umapi.users.writer import UserChange, UserWriter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["Lead", "UserChange", "UserFilters", "UserRepository"]


class UserRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str, roles: RoleRepository, admins: AdminRoster) -> None:
        """``roles`` and ``admins``: what the writer keeps in step with every change."""
        self._dynamodb = dynamodb
        self._table = table
        self.writer = UserWriter(dynamodb, table, roles, admins)

    # ------------------------------------------------------------------ reads
    @property
    def table(self) -> str:
        return self._table

    def get(self, org_id: str, user_id: str, *, consistent: bool = False) -> User | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=user_key(org_id, user_id), ConsistentRead=consistent
            ).get("Item")
        return user_from_item(item) if item else None

    def get_with_role(
        self, org_id: str, user_id: str, role_id: str | None, *, roster: bool = False
    ) -> tuple[User | None, Role | None, RosterState | None]:
        """A user of ``org_id``, (if ``role_id``) one of its custom roles and (if ``roster``) the
        admin roster, in one consistent ``BatchGetItem``."""
        keys = [user_key(org_id, user_id)] + ([role_key(org_id, role_id)] if role_id else [])
        keys += [roster_key(org_id)] if roster else []
        user, role, roster_item = None, None, None
        for item in db.batch_get(self._dynamodb, self._table, keys):
            if item["SK"] == keys[0]["SK"]:
                user = user_from_item(item)
            elif roster and item["SK"] == roster_key(org_id)["SK"]:
                roster_item = item
            else:
                role = role_from_item(item)
        return user, role, roster_from_item(roster_item) if roster else None

    def get_many(self, org_id: str, user_ids: list[str]) -> dict[str, User]:
        """Users of one organization by id (at most 100), consistently, in one ``BatchGetItem``
        (plus one more for each batch DynamoDB leaves unprocessed)."""
        keys = [user_key(org_id, user_id) for user_id in user_ids]
        users = (user_from_item(item) for item in db.batch_get(self._dynamodb, self._table, keys))
        return {user.id: user for user in users}

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
        return org_id_of(items[0]["PK"]["S"]) if items else None

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
            request.setdefault("ExpressionAttributeNames", {})["#status"] = "status"
        if filters.role_id:
            conditions.append(
                "contains(role_ids, :role) AND (attribute_not_exists(role_expiry.#role) OR role_expiry.#role > :now)"
            )
            request["ExpressionAttributeValues"][":role"] = {"S": filters.role_id}
            request["ExpressionAttributeValues"][":now"] = {"S": utc_now_iso()}
            request.setdefault("ExpressionAttributeNames", {})["#role"] = filters.role_id
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

    def entry_page(
        self,
        org_id: str,
        lead: Lead,
        *,
        descending: bool,
        limit: int,
        start_key: dict[str, Any] | None,
        keep: Callable[[User], bool],
        budget: int = db.READ_BUDGET,
    ) -> tuple[list[User], dict[str, Any] | None]:
        """A page of the users ``lead`` names that ``keep`` (the other filters) accepts, and the
        key to resume after it: a search term's matches in the order of the word they match
        (users.search), or the unarchived users with one status, department or role, newest
        (or oldest) first."""
        request: dict[str, Any] = {"TableName": self._table, "ScanIndexForward": not descending}
        answered: Callable[[dict[str, Any]], bool] = lambda _: True  # noqa: E731
        if lead.kind == "search":
            term = normalize(lead.value)
            request["KeyConditionExpression"] = "PK = :pk AND begins_with(SK, :term)"
            request["ExpressionAttributeValues"] = {
                ":pk": {"S": user_search_pk(org_id, archived=lead.archived)},
                ":term": {"S": term},
            }
            answered = partial(answers_search, term=term, descending=descending)
        else:
            request["KeyConditionExpression"] = "PK = :pk"
            request["ExpressionAttributeValues"] = {":pk": {"S": users_filter_pk(org_id, lead.kind, lead.value)}}
        return self._entries_page(org_id, request, answered, limit, start_key, keep, budget)

    def _entries_page(
        self,
        org_id: str,
        request: dict[str, Any],
        answered: Callable[[dict[str, Any]], bool],
        limit: int,
        start_key: dict[str, Any] | None,
        keep: Callable[[User], bool],
        budget: int,
    ) -> tuple[list[User], dict[str, Any] | None]:
        """Entries of one partition, then the users they name (one ``BatchGetItem`` per step),
        until ``limit`` users pass ``keep``, the partition ends or ``budget`` items were read."""
        found: list[tuple[User, dict[str, Any]]] = []
        read = 0
        seen, kept = 0, 0  # entries read and answered so far: how many the next step needs
        while len(found) <= limit and read < budget:
            if start_key:
                request["ExclusiveStartKey"] = start_key
            need = limit + 1 - len(found)
            if kept:  # a user matched under several words is answered once: read what that takes
                need = math.ceil(need * seen / kept) + 2
            with db.translate_errors():
                answer = self._dynamodb.query(**request, Limit=min(max(need, 25), budget - read))
            read += int(answer.get("ScannedCount", 0))
            entries = [db.deserialize(item) for item in answer["Items"]]
            seen += len(entries)
            entries = [e for e in entries if answered(e)]
            kept += len(entries)
            users = self.get_many(org_id, [e["user_id"] for e in entries]) if entries else {}
            read += len(users)
            for entry in entries:
                user = users.get(entry["user_id"])
                if user is not None and keep(user):
                    found.append((user, {"PK": {"S": entry["PK"]}, "SK": {"S": entry["SK"]}}))
            start_key = answer.get("LastEvaluatedKey")
            if not start_key:
                break
        if len(found) > limit:
            return [user for user, _ in found[:limit]], found[limit - 1][1]
        return [user for user, _ in found], start_key

    # ------------------------------------------------------------------ writes
    def create(
        self, user: User, audit: AuditEntry, event: Event, extra: list[Guarded], guard: db.RowGuard | None = None
    ) -> None:
        self.commit(UserChange(None, user, audit, [event], extra), guard)

    def save(
        self,
        before: User,
        after: User,
        audit: AuditEntry,
        events: list[Event] | None = None,
        extra: list[Guarded] | None = None,
        guard: db.RowGuard | None = None,
    ) -> None:
        """Replace ``before`` by ``after`` if nobody changed the user meanwhile, with its audit
        entry, its events and any ``extra`` items, all or nothing (``guard``: a job row's, joining)."""
        self.commit(UserChange(before, after, audit, events or [], extra or []), guard)

    def purge(self, user: User, audit: AuditEntry, event: Event) -> None:
        """Delete the user and free its email; the audit entries stay."""
        self.commit(UserChange(user, None, audit, [event]))

    def commit(self, change: UserChange, guard: db.RowGuard | None = None) -> None:
        """One change, in one transaction (``guard``: a job row's unit of work, joining it)."""
        self.writer.commit(change, guard)

    def commit_many(self, changes: list[UserChange], guard: db.RowGuard | None = None) -> list[Exception | None]:
        """Each change in as few transactions as fit (``UserWriter.commit_many``)."""
        return self.writer.commit_many(changes, guard)

    def put_with_audit(self, item: dict[str, Any], audit: AuditEntry) -> None:
        db.transact(self._dynamodb, [(item, None), (audit_put(self._table, audit), None)])

    def put_audit(self, audit: AuditEntry) -> None:
        """An audit entry on its own (an event with no state change, e.g. a detected token reuse)."""
        db.transact(self._dynamodb, [(audit_put(self._table, audit), None)])

    def email_taken(self, org_id: str, email_key: str) -> bool:
        with db.translate_errors():
            return "Item" in self._dynamodb.get_item(
                TableName=self._table, Key=email_claim_key(org_id, email_key), ConsistentRead=True
            )

    def claim_email(self, org_id: str, email_key: str, user_id: str) -> dict[str, Any]:
        """The transaction item that takes ``email_key`` for ``user_id`` (fails if taken)."""
        return claim_email(self._table, org_id, email_key, user_id)

    def release_email(self, org_id: str, email_key: str) -> dict[str, Any]:
        return release_email(self._table, org_id, email_key)

    # ------------------------------------------------------------------ verification tokens
    def verification_put(self, token_hash: str, values: dict[str, Any]) -> dict[str, Any]:
        item = {"PK": verification_pk(token_hash), "SK": VERIFY_SK, "entity": "verification", **values}
        return {"Put": {"TableName": self._table, "Item": db.serialize(item)}}

    def get_verification(self, token_hash: str) -> dict[str, Any] | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table,
                Key=verification_key(token_hash),
                ConsistentRead=True,
            ).get("Item")
        return db.deserialize(item) if item else None

    def verification_consume(self, token_hash: str, now_epoch: int) -> dict[str, Any]:
        """Deletes the token only if it still exists and has not expired: single use."""
        return {
            "Delete": {
                "TableName": self._table,
                "Key": verification_key(token_hash),
                "ConditionExpression": "attribute_exists(PK) AND expires_epoch > :now",
                "ExpressionAttributeValues": {":now": {"N": str(now_epoch)}},
            }
        }
