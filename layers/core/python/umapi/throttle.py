"""Throttling of guesses (passwords, second factors): failed attempts per bucket in 15-minute
windows, counted so that concurrent guesses never get more checks than the limit."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from umapi import db

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

THROTTLE_WINDOW_SECONDS = 900
_IN_FLIGHT_WAIT_SECONDS = 3.0
Buckets = list[tuple[dict[str, Any], int]]


class TooManyAttemptsError(Exception):
    """Every slot of a bucket is taken by failures (or by checks in flight for too long)."""


class AttemptThrottle:
    """Failed attempts per bucket (an account, a source address) in 15-minute windows.

    Each attempt takes a slot *before* the password is checked (one conditional ``ADD`` per
    bucket), so concurrent guesses cannot get more checks than the limit: ``attempts`` counts
    failures and checks in flight; a correct password gives its slot back. An attempt that
    finds the slots taken only by checks in flight waits for them, so correct concurrent
    sign-ins all succeed.
    """

    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    @staticmethod
    def keys(*limits: tuple[str, int]) -> Buckets:
        """The current window's bucket of each ``(partition, limit)``."""
        window = str(int(time.time()) // THROTTLE_WINDOW_SECONDS)
        return [({"PK": {"S": partition}, "SK": {"S": window}}, limit) for partition, limit in limits]

    def reserve(self, keys: Buckets) -> None:
        """Take a slot in every bucket, or ``TooManyAttemptsError`` (taking none)."""
        taken: list[dict[str, dict[str, str]]] = []
        deadline = time.monotonic() + _IN_FLIGHT_WAIT_SECONDS
        for key, limit in keys:
            while True:
                reserved, old = db.write_if(
                    self._dynamodb.update_item,
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="ADD attempts :one SET #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(attempts) OR attempts < :limit",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":limit": {"N": str(limit)},
                        ":ttl": {"N": str(int(time.time()) + 2 * THROTTLE_WINDOW_SECONDS)},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                if reserved:
                    taken.append(key)
                    break
                if int(old.get("failures", 0)) >= limit or time.monotonic() > deadline:
                    self.release(taken)
                    raise TooManyAttemptsError
                time.sleep(0.05 + secrets.randbelow(100) / 1000)  # slots held by checks in flight

    def failed(self, keys: Buckets) -> None:
        """The check failed: its slot stays taken, as a failure."""
        for key, _ in keys:
            with db.translate_errors():
                self._dynamodb.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="ADD failures :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )

    def release_items(self, keys: list[dict[str, dict[str, str]]]) -> list[db.Guarded]:
        """Transaction items that give the slots back (a correct password)."""
        return [
            (
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key,
                        "UpdateExpression": "ADD attempts :minus",
                        "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                    }
                },
                None,
            )
            for key in keys
        ]

    def release(self, keys: list[dict[str, dict[str, str]]]) -> None:
        for item, _ in self.release_items(keys):
            with db.translate_errors():
                self._dynamodb.update_item(**item["Update"])
