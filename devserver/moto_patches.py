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

A ``Query``, in moto, starts from every item of the table (sorted by its keys, then filtered
to the partition): seconds per query once a table holds a hundred thousand items, whatever the
partition holds. Here a query reads only its partition, as DynamoDB does: a table query the
partition's own dictionary, an index query a map from the index's partition key to its items,
built once per index and kept current by every write request (the items a request names are
indexed again once it has run: moto updates items in place). moto then sorts, pages, filters
and projects those items as it always does, so the answers are moto's own. ``all_items`` (a
scan, and anything this does not serve) sorts by the keys' plain values, the same order.

moto 5.2 writes every answer through a serializer that walks the operation's output shape
member by member, looking each one up under several spellings: a fifth of a DynamoDB
request's time. An item operation's answer (``GetItem``, ``Query``, ``TransactWriteItems``...)
is already DynamoDB's wire JSON once moto has turned its items into attribute values, so it is
written with ``json.dumps``, keeping only the output shape's own members as the serializer
does (``tests/api/test_moto_patches.py`` checks that both answers parse the same).

moto's server finds the backend of every request by listing its own package directory
(``list_of_moto_modules``: a directory read and a ``stat`` per service, on each request). The
installed package does not change while the server runs, so the list is read once.
"""

from __future__ import annotations

import base64
import copy
import functools
import inspect
import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from moto import backends
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
from moto.dynamodb.responses import DynamoHandler, DynamoResult
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


# ------------------------------------------------------------------ queries that cost their partition
_original_query = Table.query
_QUERY_SIGNATURE = inspect.signature(_original_query)
_PARTITIONS = "_umapi_partitions"  # per table object: index name -> (items by partition, partition by key)
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def _base_key(table: Table, item: Any) -> tuple[Any, Any]:
    return (_plain(item.hash_key), _plain(item.range_key) if table.range_key_attr else None)


def _index_hash_attr(table: Table, index_name: str) -> str | None:
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    hashes = [key["AttributeName"] for key in (index.schema if index else []) if key["KeyType"] == "HASH"]
    return hashes[0] if len(hashes) == 1 else None  # multi-attribute keys: moto's own way


def _partitions(table: Table, index_name: str) -> tuple[str, dict[Any, dict[Any, Any]]] | None:
    """The index's partition key and its items by that key's value, built on first use (one
    pass over the table); ``None`` for an index this does not serve (a multi-attribute key)."""
    known: dict[str, Any] = table.__dict__.setdefault(_PARTITIONS, {})
    if index_name not in known:
        attribute = _index_hash_attr(table, index_name)
        if attribute is None:
            return None
        by_partition: dict[Any, dict[Any, Any]] = {}
        partition_of: dict[Any, Any] = {}
        for item in _every_item(table):  # in no order: a query sorts its partition itself
            value = item.attrs.get(attribute)
            if value is not None:
                key = _base_key(table, item)
                by_partition.setdefault(_plain(value), {})[key] = item
                partition_of[key] = _plain(value)
        known[index_name] = (attribute, by_partition, partition_of)
    attribute, by_partition, _ = known[index_name]
    return attribute, by_partition


def _every_item(table: Table) -> Iterator[Any]:
    for partition in table.items.values():
        yield from _items_of(table, partition)


def forget_partitions(table: Table) -> None:
    """Drop what the queries keep of ``table`` (after items were put without a request)."""
    table.__dict__.pop(_PARTITIONS, None)


def _reindex(table: Table, keys: list[dict[str, Any]]) -> None:
    """The items with these keys (now: changed, new or gone) in every index built so far."""
    known: dict[str, Any] = table.__dict__.get(_PARTITIONS, {})
    if not known:
        return
    for key in keys:
        hash_value = key.get(table.hash_key_attr)
        if hash_value is None:
            continue
        range_value = key.get(table.range_key_attr) if table.range_key_attr else None
        base = (_plain_json(hash_value), _plain_json(range_value) if table.range_key_attr else None)
        current = _current(table, hash_value, range_value)
        for attribute, by_partition, partition_of in known.values():
            old = partition_of.pop(base, None)
            if old is not None:
                by_partition.get(old, {}).pop(base, None)
            value = current.attrs.get(attribute) if current is not None else None
            if value is not None:
                by_partition.setdefault(_plain(value), {})[base] = current
                partition_of[base] = _plain(value)


def _plain_json(value: dict[str, Any] | None) -> tuple[str, Any]:
    if value is None:
        return ("", "")
    ((kind, raw),) = value.items()
    return (kind, Decimal(raw) if kind == "N" else raw)


def _current(table: Table, hash_value: dict[str, Any], range_value: dict[str, Any] | None) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    partition = table.items.get(DynamoType(hash_value))
    if partition is None:
        return None
    if not table.range_key_attr:
        return partition
    return partition.get(DynamoType(range_value)) if range_value is not None else None


def _written_keys(operation: str, body: dict[str, Any]) -> dict[str, list[Any]]:
    """The keys each table's items were (or may have been) written under, by one write request."""
    keys: dict[str, list[Any]] = {}

    def note(table_name: str, key_or_item: dict[str, Any]) -> None:
        keys.setdefault(table_name, []).append(key_or_item)

    if operation == "PutItem":
        note(body["TableName"], body["Item"])
    elif operation in ("UpdateItem", "DeleteItem"):
        note(body["TableName"], body["Key"])
    elif operation == "TransactWriteItems":
        for entry in body.get("TransactItems", []):
            for kind, op in entry.items():
                if kind in ("Put", "Update", "Delete"):
                    note(op["TableName"], op["Item"] if kind == "Put" else op["Key"])
    elif operation == "BatchWriteItem":
        for table_name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    note(table_name, request["PutRequest"]["Item"])
                elif "DeleteRequest" in request:
                    note(table_name, request["DeleteRequest"]["Key"])
    return keys


def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """moto's ``Table.query``, reading only the queried partition (see the module)."""
    given = _QUERY_SIGNATURE.bind(self, hash_key, *args, **kwargs).arguments
    index_name = given.get("index_name")
    if index_name:
        built = _partitions(self, index_name)
        if built is None:
            return _original_query(self, hash_key, *args, **kwargs)
        attribute, by_partition = built
        wanted = next((v for name, v in given.get("hash_key_conditions") or [] if name == attribute), hash_key)
        if wanted is None:
            return _original_query(self, hash_key, *args, **kwargs)
        candidates = list(by_partition.get(_plain(wanted), {}).values())
    else:
        partition = self.items.get(hash_key) if hash_key is not None else None
        candidates = _items_of(self, partition)
    self.all_items = lambda: candidates  # type: ignore[method-assign]
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


def _items_of(table: Table, partition: Any) -> list[Any]:
    """The items of one partition of the table (``None``: an empty partition)."""
    if partition is None:
        return []
    return list(partition.values()) if table.range_key_attr else [partition]


def _indexed(method: Callable[..., Any]) -> Callable[..., Any]:
    """After a write request, its items are indexed again (inside the request's lock)."""
    if getattr(method, "_indexed", False):
        return method

    @functools.wraps(method)
    def run(handler: DynamoHandler) -> Any:
        try:
            return method(handler)
        finally:
            operation = handler.get_endpoint_name(handler.headers)
            body = handler.body if isinstance(handler.body, dict) else {}
            if operation in _WRITES and body:
                backend = handler.dynamodb_backend
                for table_name, keys in _written_keys(operation, body).items():
                    table = backend.tables.get(table_name)
                    if table is not None:
                        _reindex(table, keys)

    run._indexed = True  # type: ignore[attr-defined]
    return run


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


# Answers that are DynamoDB's wire JSON as moto builds them (attribute values, counts, keys).
_PLAIN_JSON_ANSWERS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_SERIALIZED = DynamoResult.execute_result


def _plain_json_answer(self: DynamoResult, context: Any) -> Any:
    operation = context.operation_model
    if operation.name not in _PLAIN_JSON_ANSWERS or not isinstance(self.result, dict):
        return _SERIALIZED(self, context)
    members = operation.output_shape.members if operation.output_shape is not None else {}
    answer = {key: value for key, value in self.result.items() if key in members and value is not None}
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(answer, default=_blob)


def _blob(value: Any) -> str:
    """A binary attribute as the wire carries it: base64."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON")


@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(_LIST_OF_MOTO_MODULES())


_LIST_OF_MOTO_MODULES = backends.list_of_moto_modules


def install() -> None:
    """Use the faster transactions and index queries in this process, and make each request
    atomic (idempotent)."""
    backends.list_of_moto_modules = _moto_modules
    DynamoResult.execute_result = _plain_json_answer  # type: ignore[method-assign,assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    # The whole request, answer included: moto builds ``ReturnValues`` from the live item. The
    # table's stream too, so a reader never sees a shard while a write appends to it.
    DynamoHandler.call_action = _one_at_a_time(_indexed(DynamoHandler.call_action))  # type: ignore[method-assign]
    DynamoDBStreamsHandler.call_action = _one_at_a_time(DynamoDBStreamsHandler.call_action)  # type: ignore[method-assign]
