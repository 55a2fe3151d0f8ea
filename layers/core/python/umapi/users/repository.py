"""Users in DynamoDB.

    user            PK=ORG#<org>  SK=USER#<usr>
    email claim     PK=ORG#<org>  SK=EMAIL#<email, lower-case>   (attribute_not_exists: unique per org)
    listings        GSI1..GSI4    PK=ORG#<org>#USERS[#ARCHIVED]  SK=<created_at|name|email|last_login>#<usr>
    by id           GSI5          PK=USER#<usr>                  (platform admins across organizations)
    search entry    PK=ORG#<org>#SEARCH[#ARCHIVED]  SK=<word>#<usr>  (one per search word: users.search)
    filter entry    PK=ORG#<org>#USERS#<STATUS|DEPARTMENT|ROLE>#<value>  SK=<created_at>#<usr>
                    (unarchived users: one per status, department and role held)
    verification    PK=VERIFY#<sha256(token)>  SK=VERIFY         (single use: deleted on a condition)

Every change goes out in one transaction with its audit entry and its outbox event; the user's
``version`` guards against lost updates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.audit import AuditEntry
from umapi.db import Guarded
from umapi.errors import ConflictError
from umapi.events import Event
from umapi.keys import (
    email_claim_sk,
    org_id_of,
    org_pk,
    role_id_of,
    user_lookup_pk,
    user_search_pk,
    user_search_sk,
    user_sk,
    users_filter_pk,
    users_filter_sk,
    users_index_pk,
    verification_pk,
)
from umapi.outbox import audit_put, event_put
from umapi.roles.admins import AdminRoster, RosterChangedError, RosterState, roster_from_item, roster_key
from umapi.roles.catalog import unexpired
from umapi.roles.entities import Role, is_custom_role_id
from umapi.roles.repository import RoleRepository, role_from_item, role_key
from umapi.time import utc_now_iso
from umapi.users.entities import RoleAssignment, User
from umapi.users.search import answered_under, normalize, search_words

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class UserFilters:
    status: str | None = None
    role_id: str | None = None
    department: str | None = None
    search: str | None = None


def matches(filters: UserFilters, now_iso: str, user: User) -> bool:
    """Whether ``user`` passes ``filters`` (status, an unexpired role, department): what a
    listing's FilterExpression checks, for users read another way."""
    if filters.status and user.status != filters.status:
        return False
    if filters.department and user.department != filters.department:
        return False
    return not filters.role_id or any(a.role_id == filters.role_id for a in unexpired(user, now_iso))


@dataclass(frozen=True)
class Lead:
    """What an entry-led page reads: a ``search`` term, or one ``status``, ``department`` or
    ``role`` value (``archived`` only for search: archived users have no filter entries)."""

    kind: str
    value: str
    archived: bool = False


# Sort field -> (index, how the sort key starts)
SORT_INDEXES: dict[str, tuple[str, Callable[[User], str]]] = {
    "created_at": ("GSI1", lambda user: user.created_at),
    "name": ("GSI2", lambda user: user.name.lower()),
    "email": ("GSI3", lambda user: user.email_key),
    "last_login": ("GSI4", lambda user: user.last_login or ""),
}
VERIFY_SK = "VERIFY"

# A transaction holds at most 100 items; user changes are grouped up to that (a change is its
# user, audit entry, events, role holders, email claim and search entries; the roles it
# newly holds and the admin roster are checked once per transaction).
MAX_TRANSACTION_ITEMS = 100
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class UserChange:
    """One user write: ``before`` is ``None`` for a new user, ``after`` is ``None`` for a purge."""

    before: User | None
    after: User | None
    audit: AuditEntry
    events: list[Event] = field(default_factory=list)
    extra: list[Guarded] = field(default_factory=list)
    roster: RosterState | None = None  # the admin roster as read with the user (first attempt only)

    @property
    def org_id(self) -> str:
        return (self.after or self.before).org_id  # type: ignore[union-attr]

    def new_custom_roles(self) -> set[str]:
        now = utc_now_iso()
        return custom_holdings(self.after, now).keys() - custom_holdings(self.before, now).keys()


def custom_holdings(user: User | None, now_iso: str) -> dict[str, str | None]:
    """The custom roles ``user`` holds unexpired, with their ends (archived users hold none)."""
    if user is None or user.status == "archived":
        return {}
    return {a.role_id: a.expires_at for a in unexpired(user, now_iso) if is_custom_role_id(a.role_id)}


def _changed(user: User) -> Exception:
    return ConflictError(f"User {user.id} was changed meanwhile; read it again and retry.")


def user_key(org_id: str, user_id: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": user_sk(user_id)}}


FILTERS = ("status", "department", "role")


def listing_entries(user: User | None) -> dict[str, dict[str, Any]]:
    """Every entry ``user`` is listed by (search words, and unarchived, its status, department
    and roles), by key (``PK|SK``); none for a purged user."""
    entries = search_entries(user)
    if user is None or user.status == "archived":
        return entries
    sk = users_filter_sk(user.created_at, user.id)
    listed: list[tuple[str, str, dict[str, Any]]] = [("status", user.status, {})]
    if user.department:
        listed.append(("department", user.department, {}))
    listed += [("role", a.role_id, {"expires_at": a.expires_at}) for a in user.roles]
    for kind, value, extra in listed:
        pk = users_filter_pk(user.org_id, kind, value)
        entries[f"{pk}|{sk}"] = {"PK": pk, "SK": sk, "entity": f"user_{kind}", "user_id": user.id, **extra}
    return entries


def search_entries(user: User | None) -> dict[str, dict[str, Any]]:
    """The search entries of ``user`` by key (``PK|SK``); none for a purged user."""
    if user is None:
        return {}
    words = search_words(user.name, user.email)
    partition = user_search_pk(user.org_id, archived=user.status == "archived")
    entries = {}
    for word in words:
        values = {
            "PK": partition,
            "SK": user_search_sk(word, user.id),
            "entity": "user_search",
            "user_id": user.id,
            "word": word,
            "words": list(words),
        }
        entries[f"{values['PK']}|{values['SK']}"] = values
    return entries


def _answers_search(entry: dict[str, Any], term: str, descending: bool) -> bool:
    return answered_under(entry["word"], entry["words"], term, descending=descending)


def user_item(user: User) -> dict[str, Any]:
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
        # Lets a listing's role filter skip expired assignments: role_expiry.<role> > now.
        "role_expiry": {r.role_id: r.expires_at for r in user.roles if r.expires_at is not None} or None,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login": user.last_login,
        "archived_at": user.archived_at,
        "version": user.version,
        "password_hash": user.password_hash,
        "session_version": user.session_version,
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
        session_version=int(v.get("session_version", 0)),
    )


class UserRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str, roles: RoleRepository, admins: AdminRoster) -> None:
        """``roles`` writes role holders and checks roles still exist; ``admins`` keeps the
        organization's admin roster in step with every change (MINIMUM_ADMIN_COUNT)."""
        self._dynamodb = dynamodb
        self._table = table
        self._roles = roles
        self._admins = admins

    # ------------------------------------------------------------------ reads
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
            answered = partial(_answers_search, term=term, descending=descending)
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

    def record_login(
        self,
        user: User,
        now: str,
        audit: AuditEntry,
        event: Event,
        extra: list[Guarded],
        changed: Exception,
    ) -> None:
        """Set ``last_login`` with the sign-in's audit entry, event and ``extra`` items. It needs
        no version (concurrent sign-ins of one user all succeed), only that the user is still
        active with the session version the sign-in saw: a password change or suspension that
        commits first refuses it (``changed``)."""
        values: dict[str, Any] = {
            ":now": {"S": now},
            ":sort": {"S": f"{now}#{user.id}"},
            ":one": {"N": "1"},
            ":active": {"S": "active"},
            ":sessions": {"N": str(user.session_version)},
        }
        same_sessions = "session_version = :sessions"
        if user.session_version == 0:
            same_sessions = f"(attribute_not_exists(session_version) OR {same_sessions})"
        update = {
            "Update": {
                "TableName": self._table,
                "Key": user_key(user.org_id, user.id),
                "UpdateExpression": "SET last_login = :now, GSI4SK = :sort ADD version :one",
                "ConditionExpression": f"#status = :active AND {same_sessions}",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values,
            }
        }
        items: list[Guarded] = [(update, changed), (audit_put(self._table, audit), None)]
        db.transact(self._dynamodb, [*items, (event_put(self._table, event), None), *extra])

    def purge(self, user: User, audit: AuditEntry, event: Event) -> None:
        """Delete the user and free its email; the audit entries stay."""
        self.commit(UserChange(user, None, audit, [event]))

    def commit(self, change: UserChange, guard: db.RowGuard | None = None) -> None:
        """One change, in one transaction (``guard``: a job row's unit of work, joining it)."""
        outcome = self.commit_many([change], guard)[0]
        if outcome is not None:
            raise outcome

    def commit_many(self, changes: list[UserChange], guard: db.RowGuard | None = None) -> list[Exception | None]:
        """Each change with what it implies (role holders, search entries, the admin roster), in
        as few transactions as fit; one change failing its conditions never blocks the others.
        Returns, per change, ``None`` when it was written or the error that refused it. A job
        row's ``guard`` joins a single change's transaction (``RowFencedError`` if it failed)."""
        if guard is not None and len(changes) != 1:
            raise ValueError("a job row's guard joins exactly one change")
        outcomes: list[Exception | None] = [None] * len(changes)
        for chunk in self._chunks(changes):
            for attempt in range(MAX_ATTEMPTS):
                pending = [i for i in chunk if outcomes[i] is None]
                if not pending or self._attempt(changes, pending, outcomes, first=attempt == 0, guard=guard):
                    break
            else:
                for i in chunk:
                    if outcomes[i] is None:
                        outcomes[i] = ConflictError("The organization changed meanwhile; retry.")
        return outcomes

    def _chunks(self, changes: list[UserChange]) -> list[list[int]]:
        """Consecutive changes whose items (and the shared checks) fit one transaction."""
        now = utc_now_iso()
        chunks: list[list[int]] = []
        size = 0
        for i, change in enumerate(changes):
            own = len(self._items(change, now, set())) + len(change.new_custom_roles())
            if not chunks or size + own + 1 > MAX_TRANSACTION_ITEMS:  # + 1: the admin roster
                chunks.append([])
                size = 0
            chunks[-1].append(i)
            size += own
        return chunks

    def _attempt(
        self,
        changes: list[UserChange],
        pending: list[int],
        outcomes: list[Exception | None],
        *,
        first: bool,
        guard: db.RowGuard | None = None,
    ) -> bool:
        """One transaction of the ``pending`` changes: ``True`` when it is settled (written, or
        every refused change marked in ``outcomes``), ``False`` to try again."""
        now = utc_now_iso()
        org_id = changes[pending[0]].org_id
        known = changes[pending[0]].roster if first and len(pending) == 1 else None  # a retry reads it again
        standings = [(i, changes[i].before, changes[i].after) for i in pending]
        decision = self._admins.decide(org_id, standings, now, known)
        for i, refusal in decision.refused.items():
            outcomes[i] = refusal
        owners: list[int | None] = []
        items: list[Guarded] = []
        new_holds: set[str] = set()
        for i in pending:
            if i in decision.refused:
                continue
            own = self._items(changes[i], now, new_holds)
            items += own
            owners += [i] * len(own)
        if not items:
            return True
        shared = [self._roles.still_exists(org_id, role_id) for role_id in sorted(new_holds)]
        if decision.write is not None:
            shared.append(decision.write)
        items += shared
        owners += [None] * len(shared)
        failed = db.transact_failures(self._dynamodb, [item for item, _ in items], guard)
        if not failed:
            return True
        for position in failed:
            owner, error = owners[position], items[position][1]
            if isinstance(error, RosterChangedError):
                continue  # read the roster again and retry
            for i in [owner] if owner is not None else self._holding(changes, pending, position, items):
                outcomes[i] = error or ConflictError("The change conflicted with another; retry.")
        return False

    @staticmethod
    def _holding(changes: list[UserChange], pending: list[int], position: int, items: list[Guarded]) -> list[int]:
        """The changes that gave a user the role whose ``still_exists`` check failed."""
        role_key = role_id_of(items[position][0]["Update"]["Key"]["SK"]["S"])
        return [i for i in pending if role_key in changes[i].new_custom_roles()]

    def _items(self, change: UserChange, now: str, new_holds: set[str]) -> list[Guarded]:
        before, after = change.before, change.after
        items: list[Guarded] = []
        if before is None and after is not None:
            taken = ConflictError(
                f"A user with email {after.email} already exists in this organization.",
                context={"conflicting_field": "email"},
            )
            put = db.put_new(self._table, user_item(after))
            items += [(self.claim_email(after.org_id, after.email_key, after.id), taken), (put, _changed(after))]
        elif before is not None and after is not None:
            items.append((db.at_version("Put", self._table, before.version, Item=user_item(after)), _changed(after)))
        elif before is not None:
            delete = db.at_version("Delete", self._table, before.version, Key=user_key(before.org_id, before.id))
            items += [(delete, _changed(before)), (self.release_email(before.org_id, before.email_key), None)]
        held, holds = custom_holdings(before, now), custom_holdings(after, now)
        user = after or before
        assert user is not None
        for role_id in sorted(held.keys() - holds.keys()):
            items.append((self._roles.holder_delete(user.org_id, role_id, user.id), None))
        for role_id, expires_at in sorted(holds.items()):
            if role_id not in held or held[role_id] != expires_at:
                items.append((self._roles.holder_put(user.org_id, role_id, user.id, expires_at), None))
        new_holds |= holds.keys() - held.keys()
        items += self._entry_changes(before, after)
        items.append((audit_put(self._table, change.audit), None))
        items += [(event_put(self._table, event), None) for event in change.events]
        return items + list(change.extra)

    def _entry_changes(self, before: User | None, after: User | None) -> list[Guarded]:
        """Deletes of the entries ``after`` no longer has, puts of the new and the changed."""
        old, new = listing_entries(before), listing_entries(after)
        deletes: list[Guarded] = [
            ({"Delete": {"TableName": self._table, "Key": db.serialize({"PK": e["PK"], "SK": e["SK"]})}}, None)
            for key, e in old.items()
            if key not in new
        ]
        puts: list[Guarded] = [
            ({"Put": {"TableName": self._table, "Item": db.serialize(e)}}, None)
            for key, e in new.items()
            if old.get(key) != e
        ]
        return deletes + puts

    def put_with_audit(self, item: dict[str, Any], audit: AuditEntry) -> None:
        db.transact(self._dynamodb, [(item, None), (audit_put(self._table, audit), None)])

    def put_audit(self, audit: AuditEntry) -> None:
        """An audit entry on its own (an event with no state change, e.g. a detected token reuse)."""
        db.transact(self._dynamodb, [(audit_put(self._table, audit), None)])

    def find_by_email(self, org_id: str, email_key: str) -> User | None:
        """The user holding ``email_key`` (lower-case) in the organization: its claim, then the user."""
        with db.translate_errors():
            claim = self._dynamodb.get_item(TableName=self._table, Key=self.email_claim_key(org_id, email_key)).get(
                "Item"
            )
        return self.get(org_id, claim["user_id"]["S"], consistent=True) if claim else None

    def email_taken(self, org_id: str, email_key: str) -> bool:
        with db.translate_errors():
            return "Item" in self._dynamodb.get_item(
                TableName=self._table, Key=self.email_claim_key(org_id, email_key), ConsistentRead=True
            )

    def email_claim_key(self, org_id: str, email_key: str) -> dict[str, Any]:
        return {"PK": {"S": org_pk(org_id)}, "SK": {"S": email_claim_sk(email_key)}}

    def claim_email(self, org_id: str, email_key: str, user_id: str) -> dict[str, Any]:
        """The transaction item that takes ``email_key`` for ``user_id`` (fails if taken)."""
        claim = {"PK": org_pk(org_id), "SK": email_claim_sk(email_key), "entity": "email_claim", "user_id": user_id}
        return db.put_new(self._table, db.serialize(claim))

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
