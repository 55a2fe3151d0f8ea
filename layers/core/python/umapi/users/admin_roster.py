"""No change may leave an organization without an active admin (docs/api.md §5, MINIMUM_ADMIN_COUNT).

The organization's admin roster (``PK=ORG#<org>, SK=ADMINS``) maps every user who counts as an
admin (``active`` and holding an unexpired ``role_admin``) to when that assignment ends
(``"never"`` or an instant). Every user write that changes someone's standing rewrites the
roster in the same transaction, on the condition that the roster is still the ``version`` it was
checked at. So two concurrent demotions of the last two admins cannot both succeed: the second
one's transaction fails on the roster, is re-checked against the new roster, and is refused.

An expiring admin assignment counts until it ends, but never as the one that keeps the
organization administered: a change that would leave only expiring admins where a permanent
one was is refused too.

Expiry needs no clean-up job: an entry whose instant has passed does not count, and it is
dropped the next time the roster is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from umapi import db
from umapi.errors import ConflictError, DataConsistencyError
from umapi.roles.entities import ADMIN_ROLE_ID
from umapi.table_keys import ADMIN_ROSTER_SK, org_pk
from umapi.users.entities import User
from umapi.users.holdings import unexpired

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NEVER = "never"


class RosterChangedError(ConflictError):
    """The roster changed between the check and the write: check again."""


def standing(user: User | None, now_iso: str) -> str | None:
    """Until when ``user`` counts as an admin (``"never"`` ends), or ``None`` if it does not."""
    if user is None or user.status != "active":
        return None
    ends = [a.expires_at for a in unexpired(user, now_iso) if a.role_id == ADMIN_ROLE_ID]
    if not ends:
        return None
    return NEVER if None in ends else max(end for end in ends if end is not None)


def _counts(until: str, now_iso: str) -> bool:
    return until == NEVER or until > now_iso


def leaves_no_admin(before: dict[str, str], after: dict[str, str]) -> bool:
    """Whether going from the admins ``before`` to ``after`` (user id → until when) breaks
    MINIMUM_ADMIN_COUNT: no admin left, or only admins whose assignment expires where a
    permanent one was (an expiring assignment cannot be what keeps an organization administered)."""
    if before and not after:
        return True
    return NEVER in before.values() and NEVER not in after.values()


def violation(admin_count: int) -> DataConsistencyError:
    return DataConsistencyError(
        "This change would leave the organization without an active admin.",
        context={
            "violations": [
                {
                    "rule": "MINIMUM_ADMIN_COUNT",
                    "description": "An organization must keep at least one active user holding the admin role.",
                    "current_admin_count": admin_count,
                    "minimum_required": 1,
                }
            ]
        },
    )


def apply_moves(
    admins: dict[str, str], moves: Sequence[tuple[int, str, str | None]], now_iso: str
) -> tuple[dict[str, str], dict[int, DataConsistencyError]]:
    """The roster after ``moves`` (``(index, user id, new standing or None)``) in order, each one
    refused that would break MINIMUM_ADMIN_COUNT; entries that ended by ``now_iso`` drop out.
    Pure: the repository reads and writes the roster around it."""
    current = {user_id: until for user_id, until in admins.items() if _counts(until, now_iso)}
    refused: dict[int, DataConsistencyError] = {}
    for i, user_id, until in moves:
        trial = dict(current)
        if until is None:
            trial.pop(user_id, None)
        else:
            trial[user_id] = until
        if leaves_no_admin(current, trial):
            refused[i] = violation(len(current))
        else:
            current = trial
    return current, refused


class RosterDecision(NamedTuple):
    write: db.Guarded | None  # the roster's new version, for the transaction (None: unchanged)
    refused: dict[int, DataConsistencyError]  # changes (by index) that would leave no admin


RosterState = tuple[dict[str, str], int | None]  # admins (user id → until when), version (None: none yet)


def roster_key(org_id: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": ADMIN_ROSTER_SK}}


def roster_from_item(item: dict[str, Any] | None) -> RosterState:
    if item is None:
        return {}, None
    values = db.deserialize(item)
    return dict(values.get("admins") or {}), int(values["version"])


class AdminRoster:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def decide(
        self,
        org_id: str,
        changes: Sequence[tuple[int, User | None, User | None]],
        now_iso: str,
        known: RosterState | None = None,
    ) -> RosterDecision:
        """Applies the standing changes of ``(index, before, after)`` in order, refusing each one
        that would take the organization from one admin or more to none. ``known``: the roster
        as read with the user (the write is conditional on that version all the same)."""
        moves = [
            (i, (before or after).id, standing(after, now_iso))  # type: ignore[union-attr]
            for i, before, after in changes
            if standing(before, now_iso) != standing(after, now_iso)
        ]
        if not moves:
            return RosterDecision(None, {})
        admins, version = known if known is not None else self._read(org_id)
        admins, refused = apply_moves(admins, moves, now_iso)
        return RosterDecision(self._write(org_id, admins, version), refused)

    def _read(self, org_id: str) -> RosterState:
        with db.translate_errors():
            item = self._dynamodb.get_item(TableName=self._table, Key=roster_key(org_id), ConsistentRead=True).get(
                "Item"
            )
        return roster_from_item(item)

    def _write(self, org_id: str, admins: dict[str, str], version: int | None) -> db.Guarded:
        item = {
            "PK": org_pk(org_id),
            "SK": ADMIN_ROSTER_SK,
            "entity": "admin_roster",
            "admins": admins,
            "version": (version or 0) + 1,
        }
        put: dict[str, Any] = {"TableName": self._table, "Item": db.serialize(item)}
        if version is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "version = :seen"
            put["ExpressionAttributeValues"] = {":seen": {"N": str(version)}}
        return {"Put": put}, RosterChangedError("The organization's admins changed meanwhile; retry.")
