"""DynamoDB plumbing shared by the repositories: (de)serialization and error translation.

Repositories own their keys and conditions; this module turns DynamoDB's error codes into
domain errors, so handlers never see a ``ClientError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from umapi.errors import ConflictError, RetryLaterError, ServiceUnavailableError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

GSI1_KEYS = ("PK", "SK", "GSI1PK", "GSI1SK")

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceeded",  # a transaction's cancellation reasons
        "ThrottlingError",
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain Python values as a DynamoDB item (``None`` values are left out)."""
    return {key: _serializer.serialize(_to_dynamo(value)) for key, value in values.items() if value is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python values (numbers become int or float)."""
    return {key: _from_dynamo(_deserializer.deserialize(value)) for key, value in item.items()}


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _to_dynamo(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(item) for item in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(item) for item in value]
    if isinstance(value, set):
        return {_from_dynamo(item) for item in value}
    return value


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: ClientError) -> list[str]:
    """Per-item reasons of a cancelled transaction (``"None"`` for items that were fine)."""
    return [str(reason.get("Code", "None")) for reason in exc.response.get("CancellationReasons", [])]


def is_throttling(exc: ClientError) -> bool:
    if error_code(exc) in THROTTLING_CODES:
        return True
    return error_code(exc) == "TransactionCanceledException" and any(
        code in THROTTLING_CODES or code == "TransactionConflict" for code in cancellation_codes(exc)
    )


@contextmanager
def translate_errors() -> Iterator[None]:
    """Throttling and unreachable backends become 503 ``service_unavailable``; the rest propagates."""
    try:
        yield
    except ClientError as exc:
        if is_throttling(exc):
            raise ServiceUnavailableError("The database is busy; retry shortly.", retry_after=1) from exc
        raise
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        raise ServiceUnavailableError("The database is unreachable; retry shortly.", retry_after=1) from exc


def write_if(operation: Callable[..., Any], **request: Any) -> tuple[bool, dict[str, Any]]:
    """Run one conditional write: ``(True, its answer)``, or ``(False, the item as it was)`` when the
    condition failed (the old item is there if the request asked for
    ``ReturnValuesOnConditionCheckFailure=ALL_OLD``, else ``{}``). Other errors propagate."""
    try:
        with translate_errors():
            return True, operation(**request)
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False, deserialize(exc.response.get("Item") or {})  # type: ignore[arg-type]


def put_new(table: str, item: dict[str, Any]) -> dict[str, Any]:
    """A transaction ``Put`` of an item that must not exist yet (a serialized item)."""
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def at_version(operation: str, table: str, version: int, **request: Any) -> dict[str, Any]:
    """A transaction ``Put`` or ``Delete`` that applies only if the item is still at ``version``
    (optimistic locking: nobody changed it since it was read)."""
    return {
        operation: {
            "TableName": table,
            **request,
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(version)}},
        }
    }


# A transaction item, and the error to raise if its condition fails (None: a generic conflict).
Guarded = tuple[dict[str, Any], Exception | None]


def transact(dynamodb: Any, items: list[Guarded], guard: RowGuard | None = None) -> None:
    """All of ``items`` in one ``TransactWriteItems``, or none: a failed condition raises that
    item's error (a generic 409 ``conflict`` when it has none). ``guard``: a job row's, joining."""
    failed = transact_failures(dynamodb, [item for item, _ in items], guard)
    if failed:
        raise items[failed[0]][1] or ConflictError("The change conflicted with another; retry.")


def transact_failures(dynamodb: Any, items: list[dict[str, Any]], guard: RowGuard | None = None) -> list[int]:
    """One ``TransactWriteItems``: ``[]`` when it was written, else the positions of the items
    whose conditions failed (nothing was written). Throttling becomes 503 as everywhere.

    With a job row's ``guard`` (a unit of work the row's service was handed), the guard's items
    join the transaction, and ``RowFencedError`` says that one of them failed."""
    own = len(items)
    if guard is not None:
        if guard.written:
            raise RuntimeError("a job row is applied in exactly one transaction")
        items = [*items, *guard.items]
    try:
        with translate_errors():
            dynamodb.transact_write_items(TransactItems=items)
    except ClientError as exc:
        reasons = cancellation_codes(exc)
        failed = [position for position, reason in enumerate(reasons) if reason == "ConditionalCheckFailed"]
        if not failed:
            raise
        if any(position >= own for position in failed):
            raise RowFencedError("the row was applied already, or its job stopped") from exc
        return failed
    if guard is not None:
        guard.written = True
    return []


class RowFencedError(RetryLaterError):
    """A job row's guard failed: another copy of its message applied the row first, or the job
    is no longer processing. Nothing of the transaction was written."""


class RowGuard:
    """A job row's unit of work (docs/api.md §10): the transaction items that make the row
    exactly-once (the chunk's position, the job still processing). The row's service is handed
    it and passes it to its repository, whose one transaction carries the items; ``written``
    once one did. A service that writes nothing leaves it to the row to write alone."""

    __slots__ = ("items", "written")

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.written = False


# A listing reads at most this many items per request (DynamoDB's ScannedCount: what a filter
# dropped counts too). A page that reaches it holds the matches found so far, has_more is true,
# and the cursor resumes exactly where the reading stopped (docs/api.md §4).
READ_BUDGET = 1000


def query_page(
    dynamodb: Any,
    request: dict[str, Any],
    limit: int,
    start_key: dict[str, Any] | None,
    key_names: tuple[str, ...],
    *,
    filtered: bool = False,
    budget: int = READ_BUDGET,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a ``Query``: up to ``limit`` items after ``start_key``, and the key to resume
    after the page (``None`` on the last page).

    Asks for one item more than the page, so the last page is recognised exactly (DynamoDB's
    own ``LastEvaluatedKey`` may point past the last item). It reads on until the page is full
    or the partition ends: past DynamoDB's 1 MB answers, and past items a ``FilterExpression``
    (``filtered``: read in larger steps) dropped, but never more than ``budget`` items: then
    the page is short and the key is where the reading stopped. ``key_names`` are the table's
    and the index's key attributes, which together locate an item in an index.
    """
    request = dict(request)
    step = min(max(limit + 1, 100), budget) if filtered else limit + 1
    items: list[dict[str, Any]] = []
    read = 0
    while len(items) <= limit:
        if start_key:
            request["ExclusiveStartKey"] = start_key
        with translate_errors():
            answer = dynamodb.query(**request, Limit=min(step, budget - read))
        items += answer["Items"]
        read += int(answer.get("ScannedCount", len(answer["Items"])))
        start_key = answer.get("LastEvaluatedKey")
        if not start_key:
            break
        if read >= budget and len(items) <= limit:
            return items, start_key  # the budget is spent: resume where the reading stopped
    page = items[:limit]
    if len(items) <= limit:
        return page, None
    return page, {name: page[-1][name] for name in key_names}


BATCH_GET_ATTEMPTS = 4
BATCH_GET_KEYS = 100


def batch_get(
    dynamodb: Any, table: str, keys: list[dict[str, Any]], *, consistent: bool = True
) -> list[dict[str, Any]]:
    """The items of ``keys`` in one ``BatchGetItem`` per 100 keys (DynamoDB's limit), plus one
    more call for each batch DynamoDB leaves unprocessed; 503 if some are still unprocessed
    after that."""
    if len(keys) > BATCH_GET_KEYS:
        return [
            item
            for start in range(0, len(keys), BATCH_GET_KEYS)
            for item in batch_get(dynamodb, table, keys[start : start + BATCH_GET_KEYS], consistent=consistent)
        ]
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": consistent}} if keys else {}
    items: list[dict[str, Any]] = []
    for _ in range(BATCH_GET_ATTEMPTS):
        if not request:
            return items
        with translate_errors():
            answer = dynamodb.batch_get_item(RequestItems=request)
        items += answer["Responses"].get(table, [])
        request = dict(answer.get("UnprocessedKeys") or {})
    raise ServiceUnavailableError("The database is busy; retry shortly.", retry_after=1)
