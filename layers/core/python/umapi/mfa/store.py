"""A user's second factors in DynamoDB (the keys are ``users.mfa_items``): read in one bounded
``Query``, and spent by conditional writes that join the caller's transaction, so a code, a
recovery code or a passkey signature is accepted once however many requests race with it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple

from umapi import db
from umapi.db import Guarded
from umapi.errors import ErrorDetail, ValidationError
from umapi.table_keys import mfa_pk
from umapi.users.mfa_items import (
    CHALLENGE_PREFIX,
    FACTOR_PREFIX,
    RECOVERY_SK,
    factor_key,
    mfa_key,
    recovery_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PENDING_SECONDS = 600  # an unconfirmed TOTP enrolment (docs/api.md §11)
CHALLENGE_SECONDS = 300  # a passkey registration's challenge


def refused_code() -> ValidationError:
    """Every refused code answers the same (docs/api.md §11): wrong, replayed and spent alike."""
    return ValidationError(
        "The code is not correct, or was used already.",
        details=[
            ErrorDetail("code", "Not a current code of your factors, nor an unused recovery code.", "invalid_code")
        ],
    )


class StoredFactor(NamedTuple):
    """A factor with its secret side: a TOTP key (sealed) or a passkey's public key."""

    id: str
    type: str  # "totp" | "webauthn"
    name: str
    created_at: str
    confirmed: bool
    expires_epoch: int | None = None  # an unconfirmed enrolment's end
    secret: str | None = None  # TOTP: the key, sealed with the user and factor as context
    last_step: int = -1  # TOTP: the last time step accepted (a code of it or older is refused)
    credential_id: str | None = None  # passkey: base64url
    public_key: str | None = None  # passkey: COSE key, base64url
    sign_count: int = 0  # passkey: the authenticator's counter as last seen
    transports: tuple[str, ...] = ()


class FactorSet(NamedTuple):
    """Everything stored about a user's second factors."""

    factors: tuple[StoredFactor, ...]
    recovery_hashes: frozenset[str]

    @property
    def confirmed(self) -> tuple[StoredFactor, ...]:
        return tuple(factor for factor in self.factors if factor.confirmed)

    def of_type(self, kind: str) -> tuple[StoredFactor, ...]:
        return tuple(factor for factor in self.confirmed if factor.type == kind)


def _factor(values: dict[str, Any]) -> StoredFactor:
    return StoredFactor(
        id=values["id"],
        type=values["type"],
        name=values["name"],
        created_at=values["created_at"],
        confirmed=bool(values.get("confirmed")),
        expires_epoch=values.get("expires_epoch"),
        secret=values.get("secret"),
        last_step=int(values.get("last_step", -1)),
        credential_id=values.get("credential_id"),
        public_key=values.get("public_key"),
        sign_count=int(values.get("sign_count", 0)),
        transports=tuple(values.get("transports") or ()),
    )


class MfaStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    # ------------------------------------------------------------------ reads
    def factor_set(self, org_id: str, user_id: str) -> FactorSet:
        """The user's factors (unexpired enrolments too) and recovery codes: one ``Query`` of at
        most a few dozen small items, read consistently."""
        factors: list[StoredFactor] = []
        hashes: frozenset[str] = frozenset()
        now = int(time.time())
        with db.translate_errors():
            pages = self._dynamodb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": mfa_pk(org_id, user_id)}},
                ConsistentRead=True,
            )
            for page in pages:
                for item in page.get("Items", []):
                    values = db.deserialize(item)
                    if values["SK"] == RECOVERY_SK:
                        hashes = frozenset(values.get("codes") or ())
                    elif values["SK"].startswith(FACTOR_PREFIX):
                        factor = _factor(values)
                        if factor.confirmed or (factor.expires_epoch or 0) > now:
                            factors.append(factor)
        return FactorSet(tuple(factors), hashes)

    def get_factor(self, org_id: str, user_id: str, factor_id: str) -> StoredFactor | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=factor_key(org_id, user_id, factor_id), ConsistentRead=True
            ).get("Item")
        return _factor(db.deserialize(item)) if item else None

    # ------------------------------------------------------------------ writes
    def put_pending(self, org_id: str, user_id: str, factor: StoredFactor) -> None:
        """An unconfirmed TOTP enrolment, gone after ``PENDING_SECONDS`` (TTL, and checked on read)."""
        with db.translate_errors():
            self._dynamodb.put_item(
                TableName=self._table,
                Item=self._factor_item(org_id, user_id, factor, ttl=(factor.expires_epoch or 0) + 3600),
                ConditionExpression="attribute_not_exists(PK)",
            )

    def factor_put(self, org_id: str, user_id: str, factor: StoredFactor) -> Guarded:
        """A confirmed factor (a passkey), new."""
        return db.put_new(self._table, self._factor_item(org_id, user_id, factor)), None

    def _factor_item(self, org_id: str, user_id: str, factor: StoredFactor, ttl: int | None = None) -> dict[str, Any]:
        key = factor_key(org_id, user_id, factor.id)
        values = {**factor._asdict(), "transports": list(factor.transports) or None, "ttl": ttl}
        return {**key, **db.serialize(values)}

    def confirm_item(self, org_id: str, user_id: str, factor: StoredFactor, step: int) -> Guarded:
        """Confirms an enrolment with the code of ``step``, if it is still unconfirmed and unexpired."""
        update = {
            "Update": {
                "TableName": self._table,
                "Key": factor_key(org_id, user_id, factor.id),
                "UpdateExpression": "SET confirmed = :yes, last_step = :step REMOVE expires_epoch, #ttl",
                "ConditionExpression": "confirmed = :no AND expires_epoch > :now",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": {
                    ":yes": {"BOOL": True},
                    ":no": {"BOOL": False},
                    ":step": {"N": str(step)},
                    ":now": {"N": str(int(time.time()))},
                },
            }
        }
        return update, refused_code()

    def step_item(self, org_id: str, user_id: str, factor_id: str, step: int) -> Guarded:
        """Spends the code of ``step``: refused if that step, or a later one, was accepted already."""
        update = {
            "Update": {
                "TableName": self._table,
                "Key": factor_key(org_id, user_id, factor_id),
                "UpdateExpression": "SET last_step = :step",
                "ConditionExpression": "confirmed = :yes AND last_step < :step",
                "ExpressionAttributeValues": {":step": {"N": str(step)}, ":yes": {"BOOL": True}},
            }
        }
        return update, refused_code()

    def counter_item(self, org_id: str, user_id: str, factor: StoredFactor, new_count: int) -> Guarded:
        """A passkey's counter moves from what was read to ``new_count``, or nothing does."""
        update = {
            "Update": {
                "TableName": self._table,
                "Key": factor_key(org_id, user_id, factor.id),
                "UpdateExpression": "SET sign_count = :new",
                "ConditionExpression": "confirmed = :yes AND sign_count = :old",
                "ExpressionAttributeValues": {
                    ":new": {"N": str(new_count)},
                    ":old": {"N": str(factor.sign_count)},
                    ":yes": {"BOOL": True},
                },
            }
        }
        return update, refused_code()

    def factor_delete(self, org_id: str, user_id: str, factor_id: str, spent_step: int | None = None) -> Guarded:
        """Deletes a confirmed factor (``spent_step``: a code of this same factor proved it, so
        the delete is also what spends the code)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": factor_key(org_id, user_id, factor_id),
            "ConditionExpression": "confirmed = :yes",
            "ExpressionAttributeValues": {":yes": {"BOOL": True}},
        }
        if spent_step is not None:
            request["ConditionExpression"] += " AND last_step < :step"
            request["ExpressionAttributeValues"][":step"] = {"N": str(spent_step)}
        return {"Delete": request}, refused_code()

    def recovery_put(self, org_id: str, user_id: str, hashes: list[str], spent: str | None = None) -> Guarded:
        """A new set of recovery codes, replacing any (``spent``: the old code that proved it,
        which must still be unused)."""
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": {**recovery_key(org_id, user_id), "codes": {"SS": hashes}},
        }
        if spent is not None:
            put["ConditionExpression"] = "contains(codes, :spent)"
            put["ExpressionAttributeValues"] = {":spent": {"S": spent}}
        return {"Put": put}, refused_code()

    def recovery_spend(self, org_id: str, user_id: str, spent: str) -> Guarded:
        """Removes one recovery code, if it is still there (single use)."""
        update = {
            "Update": {
                "TableName": self._table,
                "Key": recovery_key(org_id, user_id),
                "UpdateExpression": "DELETE codes :set",
                "ConditionExpression": "contains(codes, :spent)",
                "ExpressionAttributeValues": {":set": {"SS": [spent]}, ":spent": {"S": spent}},
            }
        }
        return update, refused_code()

    def recovery_delete(self, org_id: str, user_id: str) -> Guarded:
        return {"Delete": {"TableName": self._table, "Key": recovery_key(org_id, user_id)}}, None

    # ------------------------------------------------------------------ passkey challenges
    def challenge_put(self, org_id: str, user_id: str, challenge: str) -> None:
        now = int(time.time())
        with db.translate_errors():
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    **mfa_key(org_id, user_id, f"{CHALLENGE_PREFIX}{challenge}"),
                    **db.serialize({"expires_epoch": now + CHALLENGE_SECONDS, "ttl": now + CHALLENGE_SECONDS + 3600}),
                },
            )

    def challenge_spend(self, org_id: str, user_id: str, challenge: str) -> bool:
        """Deletes the challenge if this user was given it and it is unexpired: single use."""
        spent, _ = db.write_if(
            self._dynamodb.delete_item,
            TableName=self._table,
            Key=mfa_key(org_id, user_id, f"{CHALLENGE_PREFIX}{challenge[:200]}"),
            ConditionExpression="expires_epoch > :now",
            ExpressionAttributeValues={":now": {"N": str(int(time.time()))}},
        )
        return spent

    # ------------------------------------------------------------------ commits
    @property
    def table(self) -> str:
        return self._table

    def transact(self, items: list[Guarded]) -> None:
        db.transact(self._dynamodb, items)
