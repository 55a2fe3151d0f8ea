"""A faster ``TransactWriteItems`` and faster index queries for moto, with DynamoDB's semantics.

moto 5.2.5 makes a transaction atomic by deep-copying the whole table once per transaction
item before applying anything, and restoring the copy on failure. Every request of this API
writes a transaction (the change, its audit entry, its event), so the cost of each grew with
the table: about 0.7 s per transaction after a few thousand items, seconds later on. That
made the local runtime slower the longer it ran.

DynamoDB forbids two operations on one item in a transaction, so no item's condition can
depend on another item's write. This version therefore checks every condition first and
writes nothing unless all hold, then applies the writes. Only the touched items are saved,
to be put back if a write itself fails (a malformed update expression). The answers, the
cancellation reasons and the stream records are moto's own.

Each DynamoDB request is atomic: a single-item write never loses a concurrent one (two
``list_append`` updates of one item both land, two racing conditional writes cannot both
succeed), and no read sees half a transaction. moto applies a request in Python without a
lock, so concurrent requests (the threaded moto server of the local runtime, threaded tests)
could interleave; here every request of the DynamoDB and DynamoDB Streams handlers (its answer
included) runs under one lock, as if the table served them one at a time. SQS, SES and Secrets
Manager stay concurrent.

A query of a secondary index starts, in moto, by sorting every item of the table by its keys,
comparing moto's typed values in Python: seconds per query once a table holds ten thousand
items. ``all_items`` here sorts by the keys' plain values (numbers as numbers), the same order.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    writes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        original: dict[str, Any] | None = None
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in _OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            if op_type == "Put":
                table = self.get_table(table_name)
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)
            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original)
            writes.append((op_type, op, key))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original))
        except Exception as exc:  # noqa: BLE001 - moto reports any other failure as the item's reason
            errors.append((type(exc).__name__, str(exc), original))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    saved = [(op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key))) for _, op, key in writes]
    try:
        for op_type, op, key in writes:
            _apply(self, op_type, op, key)
    except Exception:
        for table_name, key, before in saved:
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        raise


def _apply(self: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    """One write, as moto's own transaction makes it (its condition held a moment ago and no
    other operation of the transaction touches this item)."""
    context: dict[str, Any] = {
        "condition_expression": op.get("ConditionExpression"),
        "expression_attribute_names": op.get("ExpressionAttributeNames"),
        "expression_attribute_values": op.get("ExpressionAttributeValues"),
    }
    if op_type == "Put":
        self.put_item(op["TableName"], op["Item"], **context)
    elif op_type == "Delete":
        self.delete_item(op["TableName"], key, **context)
    elif op_type == "Update":
        self.update_item(op["TableName"], key, update_expression=op["UpdateExpression"], **context)


def _plain(value: Any) -> tuple[str, Any]:
    if value is None:
        return ("", "")
    return (value.type, Decimal(value.value) if value.type == "N" else value.value)


def all_items(self: Table) -> list[Any]:
    """moto's ``Table.all_items``: every item, ordered by hash key then range key."""
    items = [
        item for hash_set in self.items.values() for item in (hash_set.values() if self.range_key_attr else [hash_set])
    ]
    return sorted(items, key=lambda item: (_plain(item.hash_key), _plain(item.range_key)))


_REQUEST_LOCK = threading.RLock()


def _one_at_a_time(method: Callable[..., Any]) -> Callable[..., Any]:
    if getattr(method, "_one_at_a_time", False):
        return method

    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _REQUEST_LOCK:
            return method(*args, **kwargs)

    locked._one_at_a_time = True  # type: ignore[attr-defined]
    return locked


def install() -> None:
    """Use the faster transactions and index queries in this process, and make each request
    atomic (idempotent)."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    # The whole request, answer included: moto builds ``ReturnValues`` from the live item. The
    # table's stream too, so a reader never sees a shard while a write appends to it.
    DynamoHandler.call_action = _one_at_a_time(DynamoHandler.call_action)  # type: ignore[method-assign]
    DynamoDBStreamsHandler.call_action = _one_at_a_time(DynamoDBStreamsHandler.call_action)  # type: ignore[method-assign]
