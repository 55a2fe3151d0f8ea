"""Writing users: every change of a user in one transaction with what it implies.

A change (``UserChange``) is the user before and after, its audit entry and events; the writer
adds the email claim, the search and filter entries (``users.entries``), the custom roles'
holder items, a check that each newly held role still exists, and the organization's admin
roster (``users.admin_roster``) when someone's standing as an admin changes. Changes are
grouped into as few transactions as fit; one refused change never blocks the others; a
transaction lost to a concurrent roster change is tried again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from umapi import db
from umapi.audit import AuditEntry
from umapi.db import Guarded
from umapi.errors import ConflictError
from umapi.events import Event
from umapi.outbox import audit_put, event_put
from umapi.roles.repository import RoleRepository
from umapi.table_keys import role_id_of
from umapi.time import utc_now_iso
from umapi.users.admin_roster import AdminRoster, RosterChangedError, RosterState
from umapi.users.entities import User
from umapi.users.entries import entry_changes
from umapi.users.holdings import custom_holdings
from umapi.users.items import claim_email, release_email, user_item, user_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A transaction holds at most 100 items; user changes are grouped up to that (a change is its
# user, audit entry, events, role holders, email claim and search entries; the roles it
# newly holds and the admin roster are checked once per transaction).
MAX_TRANSACTION_ITEMS = 100
MAX_ATTEMPTS = 4


class UserChange(NamedTuple):
    """One user write: ``before`` is ``None`` for a new user, ``after`` is ``None`` for a purge."""

    before: User | None
    after: User | None
    audit: AuditEntry
    events: Sequence[Event] = ()
    extra: Sequence[Guarded] = ()
    roster: RosterState | None = None  # the admin roster as read with the user (first attempt only)

    @property
    def org_id(self) -> str:
        return (self.after or self.before).org_id  # type: ignore[union-attr]

    def new_custom_roles(self) -> set[str]:
        now = utc_now_iso()
        return custom_holdings(self.after, now).keys() - custom_holdings(self.before, now).keys()


def _changed(user: User) -> Exception:
    return ConflictError(f"User {user.id} was changed meanwhile; read it again and retry.")


class UserWriter:
    def __init__(self, dynamodb: DynamoDBClient, table: str, roles: RoleRepository, admins: AdminRoster) -> None:
        """``roles`` writes role holders and checks roles still exist; ``admins`` keeps the
        organization's admin roster in step with every change (MINIMUM_ADMIN_COUNT)."""
        self._dynamodb = dynamodb
        self._table = table
        self._roles = roles
        self._admins = admins

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
            items += [
                (claim_email(self._table, after.org_id, after.email_key, after.id), taken),
                (put, _changed(after)),
            ]
        elif before is not None and after is not None:
            items.append((db.at_version("Put", self._table, before.version, Item=user_item(after)), _changed(after)))
        elif before is not None:
            delete = db.at_version("Delete", self._table, before.version, Key=user_key(before.org_id, before.id))
            items += [(delete, _changed(before)), (release_email(self._table, before.org_id, before.email_key), None)]
        held, holds = custom_holdings(before, now), custom_holdings(after, now)
        user = after or before
        assert user is not None
        for role_id in sorted(held.keys() - holds.keys()):
            items.append((self._roles.holder_delete(user.org_id, role_id, user.id), None))
        for role_id, expires_at in sorted(holds.items()):
            if role_id not in held or held[role_id] != expires_at:
                items.append((self._roles.holder_put(user.org_id, role_id, user.id, expires_at), None))
        new_holds |= holds.keys() - held.keys()
        items += entry_changes(self._table, before, after)
        items.append((audit_put(self._table, change.audit), None))
        items += [(event_put(self._table, event), None) for event in change.events]
        return items + list(change.extra)
