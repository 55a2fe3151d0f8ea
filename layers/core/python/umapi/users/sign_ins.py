"""What signing in needs of the users, and nothing more: the user an email names, and the record
of a sign-in. The sign-in function loads this instead of the user repository (its listings, its
writer, the admin roster), which no sign-in touches."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from umapi import db
from umapi.audit import AuditEntry
from umapi.db import Guarded
from umapi.events import Event
from umapi.outbox import audit_put, event_put
from umapi.users.entities import MfaFactor, User
from umapi.users.items import email_claim_key, user_from_item, user_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class MfaChange(NamedTuple):
    """What a sign-in's second factor changes on the user item."""

    used_factor: str | None = None  # its last_used_at becomes the sign-in's time
    added_factor: MfaFactor | None = None  # enrolled while signing in (the user had none)


class SignInRecords:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def find_by_email(self, org_id: str, email_key: str) -> User | None:
        """The user holding ``email_key`` (lower-case) in the organization: its claim, then the
        user (read consistently)."""
        with db.translate_errors():
            claim = self._dynamodb.get_item(TableName=self._table, Key=email_claim_key(org_id, email_key)).get("Item")
            if claim is None:
                return None
            item = self._dynamodb.get_item(
                TableName=self._table, Key=user_key(org_id, claim["user_id"]["S"]), ConsistentRead=True
            ).get("Item")
        return user_from_item(item) if item else None

    def get(self, org_id: str, user_id: str) -> User | None:
        """The user, read consistently (a browser session's user, checked on every use)."""
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=user_key(org_id, user_id), ConsistentRead=True
            ).get("Item")
        return user_from_item(item) if item else None

    def record_login(
        self,
        user: User,
        now: str,
        audit: AuditEntry,
        event: Event,
        extra: list[Guarded],
        changed: Exception,
        mfa: MfaChange | None = None,
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
        sets = ["last_login = :now", "GSI4SK = :sort"]
        condition = f"#status = :active AND {same_sessions}"
        if mfa is not None and mfa.used_factor is not None:
            position = next((i for i, f in enumerate(user.mfa_factors) if f.id == mfa.used_factor), None)
            if position is not None:  # the factor is where the user item had it, or nothing is written
                sets.append(f"mfa_factors[{position}].last_used_at = :now")
                condition += f" AND mfa_factors[{position}].id = :factor"
                values[":factor"] = {"S": mfa.used_factor}
        if mfa is not None and mfa.added_factor is not None:  # the first factor, enrolled on the way
            sets += ["mfa_factors = :factors", "mfa_enabled = :yes"]
            condition += " AND (attribute_not_exists(mfa_factors) OR size(mfa_factors) = :none)"
            values[":factors"] = db.serialize({"f": [mfa.added_factor._asdict()]})["f"]
            values[":yes"] = {"BOOL": True}
            values[":none"] = {"N": "0"}
        update = {
            "Update": {
                "TableName": self._table,
                "Key": user_key(user.org_id, user.id),
                "UpdateExpression": f"SET {', '.join(sets)} ADD version :one",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values,
            }
        }
        items: list[Guarded] = [(update, changed), (audit_put(self._table, audit), None)]
        db.transact(self._dynamodb, [*items, (event_put(self._table, event), None), *extra])
