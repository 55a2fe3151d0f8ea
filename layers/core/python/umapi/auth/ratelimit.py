"""Requests per minute per API key, exact across every container (contract §3).

Each client has one window item ``RATE#<client_id>``: when its window started and how many
requests it admitted. A window opens with the client's first request and lasts 60 s, so a
burst is never split by a calendar minute. The hot path is one conditional ``UpdateItem``:

    ADD count 1  IF window still open AND count < limit

A refusal returns the old item (``ReturnValuesOnConditionCheckFailure``), which tells whether
the window is full (429) or over (open a new one with a conditional put). Refused requests
are not counted, so a client that backs off for ``Retry-After`` seconds gets in.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.errors import RateLimitedError
from umapi.keys import RATE_WINDOW_SK, rate_window_pk
from umapi.time import epoch_seconds, to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateLimitStatus:
    limit: int
    remaining: int
    reset_at: int  # unix seconds when the window closes

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Window": str(WINDOW_SECONDS),
        }


class RateLimitExceededError(RateLimitedError):
    """Over the limit; carries the status so the response still gets its ``X-RateLimit-*`` headers."""

    status: RateLimitStatus


def _refusal(limit: int, window_start: float, now: float) -> RateLimitExceededError:
    reset = window_start + WINDOW_SECONDS
    error = RateLimitExceededError(
        f"More than {limit} requests in {WINDOW_SECONDS} s; retry after the window resets.",
        retry_after=min(WINDOW_SECONDS, max(1, math.ceil(reset - now))),
        context={
            "limit": limit,
            "window": WINDOW_SECONDS,
            "reset_at": to_iso(datetime.fromtimestamp(math.ceil(reset), UTC)),
        },
    )
    error.status = RateLimitStatus(limit=limit, remaining=0, reset_at=math.ceil(reset))
    return error


class RateLimiter:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def admit(self, client_id: str, limit: int, response_headers: dict[str, str]) -> RateLimitStatus:
        """``hit``, and put the resulting ``X-RateLimit-*`` headers on the response whatever the outcome."""
        try:
            status = self.hit(client_id, limit)
        except RateLimitExceededError as exc:
            response_headers.update(exc.status.headers())
            raise
        response_headers.update(status.headers())
        return status

    def peek(self, client_id: str, limit: int, response_headers: dict[str, str]) -> None:
        """Refuse (429) if ``client_id``'s window is already full, without counting this request:
        one read. For requests that count only once they succeed."""
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table,
                Key={"PK": {"S": rate_window_pk(client_id)}, "SK": {"S": RATE_WINDOW_SK}},
                ConsistentRead=True,
            ).get("Item")
        now = epoch_seconds()
        if item and float(item["window_start"]["N"]) > now - WINDOW_SECONDS and int(item["admitted"]["N"]) >= limit:
            refusal = _refusal(limit, float(item["window_start"]["N"]), now)
            response_headers.update(refusal.status.headers())
            raise refusal

    def count(self, client_id: str, limit: int, response_headers: dict[str, str]) -> None:
        """Count a request that has already been served (its effects cannot be undone), with the
        window's headers; a window that filled up meanwhile refuses the next request instead."""
        with contextlib.suppress(RateLimitExceededError):
            self.admit(client_id, limit, response_headers)

    def hit(self, client_id: str, limit: int) -> RateLimitStatus:
        """Admit one request of ``client_id`` or raise ``RateLimitExceededError``."""
        key = {"PK": {"S": rate_window_pk(client_id)}, "SK": {"S": RATE_WINDOW_SK}}
        for _ in range(3):  # a lost race to open a new window is retried
            now = epoch_seconds()
            admitted_now, answer = db.write_if(
                self._dynamodb.update_item,
                TableName=self._table,
                Key=key,
                UpdateExpression="ADD admitted :one",
                ConditionExpression="window_start > :open_after AND admitted < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":open_after": {"N": repr(now - WINDOW_SECONDS)},
                    ":limit": {"N": str(limit)},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            if not admitted_now:
                old = answer  # the window as it was: full, or over
                if old and float(old["window_start"]) > now - WINDOW_SECONDS:
                    raise _refusal(limit, float(old["window_start"]), now)
                if self._open_window(key, now, old):
                    return RateLimitStatus(limit=limit, remaining=limit - 1, reset_at=math.ceil(now + WINDOW_SECONDS))
                continue
            item = answer["Attributes"]
            admitted = int(item["admitted"]["N"])
            reset = float(item["window_start"]["N"]) + WINDOW_SECONDS
            return RateLimitStatus(limit=limit, remaining=max(0, limit - admitted), reset_at=math.ceil(reset))
        raise RateLimitedError("The rate limit could not be evaluated; retry shortly.", retry_after=1)

    def _open_window(self, key: dict[str, dict[str, str]], now: float, old: dict[str, Any]) -> bool:
        """Start a new window with this request in it, unless another request just did."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": {
                **key,
                "window_start": {"N": repr(now)},
                "admitted": {"N": "1"},
                "ttl": {"N": str(int(now) + 2 * WINDOW_SECONDS)},
            },
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        if old:
            request["ConditionExpression"] = "window_start = :old_start"
            request["ExpressionAttributeValues"] = {":old_start": {"N": repr(float(old["window_start"]))}}
        opened, _ = db.write_if(self._dynamodb.put_item, **request)
        return opened
