"""Requests per minute per API key, exact across every container (docs/api.md §3).

A window says when it started and how many requests it admitted. A window opens with the
first request and lasts 60 s, so a burst is never split by a calendar minute. The hot path is
one conditional ``UpdateItem``:

    ADD rate_admitted 1  IF window still open AND rate_admitted < limit

An API key's window is kept on the client's own item and the update answers the whole item
(``ReturnValues=ALL_NEW``): authenticating a request is that one call, the consistent read of
the client (is it still there, what may it do) and the count together. The limit is the
item's ``rate_limit_per_minute`` when it has one, so a changed limit applies at once. Other
buckets (failed token requests) are items of their own, ``RATE#<bucket>``, that expire.

A refusal returns the old item (``ReturnValuesOnConditionCheckFailure``), which tells whether
the window is full (429), over (open a new one with a conditional update) or the client gone.
Refused requests are not counted, so a client that backs off for ``Retry-After`` seconds gets in.
"""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from umapi import db
from umapi.errors import RateLimitedError
from umapi.table_keys import CLIENT_SK, RATE_WINDOW_SK, client_pk, rate_window_pk
from umapi.time import epoch_seconds, to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

WINDOW_SECONDS = 60


class RateLimitStatus(NamedTuple):
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


class Window(NamedTuple):
    """Where a window is kept. A client's window (``org_id`` set) lives on the client's item and
    counts only while the client exists in that organization; a bucket's is an item that expires."""

    key: dict[str, dict[str, str]]
    org_id: str | None = None


def client_window(client_id: str, org_id: str) -> Window:
    return Window(key={"PK": {"S": client_pk(client_id)}, "SK": {"S": CLIENT_SK}}, org_id=org_id)


def bucket_window(bucket: str) -> Window:
    return Window(key={"PK": {"S": rate_window_pk(bucket)}, "SK": {"S": RATE_WINDOW_SK}})


class WindowGoneError(LookupError):
    """The client a window belongs to was deleted (or is not in the organization it was named in)."""


_WINDOW_ATTRIBUTES = "rate_window_start, rate_admitted, rate_limit_per_minute"


class RateLimiter:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def admit(self, window: Window, limit: int, response_headers: dict[str, str]) -> dict[str, Any]:
        """``hit``, and put the resulting ``X-RateLimit-*`` headers on the response whatever the outcome."""
        try:
            status, item = self.hit(window, limit)
        except RateLimitExceededError as exc:
            response_headers.update(exc.status.headers())
            raise
        response_headers.update(status.headers())
        return item

    def peek(self, window: Window, limit: int, response_headers: dict[str, str]) -> None:
        """Refuse (429) if the window is already full, without counting this request: one read.
        For requests that count only once they succeed."""
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=window.key, ConsistentRead=True, ProjectionExpression=_WINDOW_ATTRIBUTES
            ).get("Item")
        now = epoch_seconds()
        old = db.deserialize(item or {})
        if _is_open(old, now) and int(old["rate_admitted"]) >= _limit_of(old, limit):
            refusal = _refusal(_limit_of(old, limit), float(old["rate_window_start"]), now)
            response_headers.update(refusal.status.headers())
            raise refusal

    def count(self, window: Window, limit: int, response_headers: dict[str, str]) -> None:
        """Count a request that has already been served (its effects cannot be undone), with the
        window's headers; a window that filled up meanwhile refuses the next request instead."""
        with contextlib.suppress(RateLimitExceededError, WindowGoneError):
            self.admit(window, limit, response_headers)

    def hit(self, window: Window, limit: int) -> tuple[RateLimitStatus, dict[str, Any]]:
        """Admit one request in ``window`` (``limit`` unless its item names its own) and answer the
        item after the count, or raise ``RateLimitExceededError`` / ``WindowGoneError``."""
        for _ in range(3):  # a lost race to open a new window is retried
            now = epoch_seconds()
            guard, values = self._guard(window)
            admitted_now, answer = db.write_if(
                self._dynamodb.update_item,
                TableName=self._table,
                Key=window.key,
                UpdateExpression="ADD rate_admitted :one",
                ConditionExpression=f"{guard}rate_window_start > :open_after AND "
                "(rate_admitted < rate_limit_per_minute OR "
                "(attribute_not_exists(rate_limit_per_minute) AND rate_admitted < :limit))",
                ExpressionAttributeValues={
                    **values,
                    ":one": {"N": "1"},
                    ":open_after": {"N": repr(now - WINDOW_SECONDS)},
                    ":limit": {"N": str(limit)},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            if admitted_now:
                item = answer["Attributes"]
                return _status(db.deserialize(item), limit), item
            old = answer  # the window as it was: full, over, or not there at all
            if window.org_id is not None and old.get("org_id") != window.org_id:
                raise WindowGoneError(window.key["PK"]["S"])
            if _is_open(old, now):
                raise _refusal(_limit_of(old, limit), float(old["rate_window_start"]), now)
            opened = self._open(window, now, old)
            if opened is not None:
                return _status(db.deserialize(opened), limit), opened
        raise RateLimitedError("The rate limit could not be evaluated; retry shortly.", retry_after=1)

    def _open(self, window: Window, now: float, old: dict[str, Any]) -> dict[str, Any] | None:
        """Start a new window with this request in it (the item after it), unless another request just did."""
        guard, values = self._guard(window)
        values |= {":now": {"N": repr(now)}, ":one": {"N": "1"}}
        update = "SET rate_window_start = :now, rate_admitted = :one"
        if window.org_id is None:
            update += ", #ttl = :ttl"
            values[":ttl"] = {"N": str(int(now) + 2 * WINDOW_SECONDS)}
        if "rate_window_start" in old:
            condition = f"{guard}rate_window_start = :old_start"
            values[":old_start"] = {"N": repr(float(old["rate_window_start"]))}
        else:
            condition = f"{guard}attribute_not_exists(rate_window_start)"
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": window.key,
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if window.org_id is None:
            request["ExpressionAttributeNames"] = {"#ttl": "ttl"}
        opened, answer = db.write_if(self._dynamodb.update_item, **request)
        return answer["Attributes"] if opened else None

    @staticmethod
    def _guard(window: Window) -> tuple[str, dict[str, Any]]:
        """A client's window counts only on the client's own, existing item (never creates one)."""
        if window.org_id is None:
            return "", {}
        return "org_id = :org AND ", {":org": {"S": window.org_id}}


def _is_open(old: dict[str, Any], now: float) -> bool:
    return "rate_window_start" in old and float(old["rate_window_start"]) > now - WINDOW_SECONDS


def _limit_of(item: dict[str, Any], default: int) -> int:
    return int(item.get("rate_limit_per_minute") or default)


def _status(item: dict[str, Any], default: int) -> RateLimitStatus:
    limit = _limit_of(item, default)
    reset = float(item["rate_window_start"]) + WINDOW_SECONDS
    return RateLimitStatus(limit=limit, remaining=max(0, limit - int(item["rate_admitted"])), reset_at=math.ceil(reset))
