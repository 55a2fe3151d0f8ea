"""Federated sign-ins in flight (docs/api.md §12): what the browser was doing when it left for
its identity provider, found again by the ``state`` it comes back with.

    attempt   PK=FEDSTATE#<sha256(state)>   SK=FEDSTATE   10 minutes (TTL)

An attempt is single use (a conditional ``DeleteItem`` returns it), bound to the browser that
started it (the hash of a random value in an HttpOnly cookie), and carries the nonce and PKCE
verifier sent to the provider, and the client's original authorization request.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from umapi import db
from umapi.digests import sha256_hex

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ATTEMPT_SECONDS = 600


class Attempt(NamedTuple):
    org_id: str
    connection_id: str
    browser: str  # sha256 of the browser's cookie value
    params: dict[str, str]  # the client's authorization request
    nonce: str
    code_verifier: str
    expires_epoch: int


def _key(state: str) -> dict[str, Any]:
    return {"PK": {"S": f"FEDSTATE#{sha256_hex(state)}"}, "SK": {"S": "FEDSTATE"}}


class Attempts:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def put(self, state: str, attempt: Attempt) -> None:
        values = attempt._asdict() | {"params": json.dumps(attempt.params), "ttl": attempt.expires_epoch + 3600}
        with db.translate_errors():
            self._dynamodb.put_item(
                TableName=self._table,
                Item={**_key(state), **db.serialize(values)},
                ConditionExpression="attribute_not_exists(PK)",
            )

    def take(self, state: str) -> Attempt | None:
        """The attempt ``state`` names, used up; ``None`` if unknown, used or expired."""
        deleted, answer = db.write_if(
            self._dynamodb.delete_item,
            TableName=self._table,
            Key=_key(state),
            ConditionExpression="attribute_exists(PK)",
            ReturnValues="ALL_OLD",
        )
        if not deleted or "Attributes" not in answer:
            return None
        v = db.deserialize(answer["Attributes"])
        attempt = Attempt(
            v["org_id"],
            v["connection_id"],
            v["browser"],
            json.loads(v["params"]),
            v["nonce"],
            v["code_verifier"],
            int(v["expires_epoch"]),
        )
        return attempt if attempt.expires_epoch > time.time() else None
