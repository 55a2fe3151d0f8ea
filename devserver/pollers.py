"""Event-source pollers: what Lambda's event source mappings do, against moto.

- ``StreamPoller`` reads each shard of a DynamoDB Stream in order and invokes the
  function with batches of records; on an error or reported item failures it retries
  from the first failed record (bisecting when asked) up to ``MaximumRetryAttempts``.
- ``QueuePoller`` long-polls an SQS queue with several concurrent pollers, invokes
  the function per batch and deletes what succeeded; failed messages come back after
  their visibility timeout, and the queue's redrive policy moves them to the DLQ.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devserver.event_filter import matches
from devserver.template import EventSourceMapping

LOG = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], dict[str, Any] | None]
"""Invokes a function by logical id with an event; returns its answer, or raises on a function error."""


class FunctionFailedError(RuntimeError):
    """The function raised (Lambda reports an unhandled error)."""


def _failed_ids(answer: dict[str, Any] | None) -> list[str]:
    failures = (answer or {}).get("batchItemFailures") or []
    return [str(item["itemIdentifier"]) for item in failures if item.get("itemIdentifier")]


class _Poller:
    """Threads that read one event source for one function until stopped."""

    def __init__(self, mapping: EventSourceMapping, client: Any, invoke: Invoke, region: str) -> None:
        self.mapping = mapping
        self._client = client
        self._invoke = invoke
        self._region = region
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def signal_stop(self) -> None:
        """Asks every thread to stop after its current poll (``stop`` waits for them)."""
        self._stop.set()

    def stop(self) -> None:
        self.signal_stop()
        for thread in self._threads:
            thread.join(timeout=5)


class StreamPoller(_Poller):
    def start(self) -> None:
        arn = self.mapping.source_arn
        for shard in self._client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = self._client.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=self.mapping.starting_position
            )["ShardIterator"]
            self._spawn(self._poll, f"stream:{self.mapping.function_id}:{shard['ShardId']}", iterator)

    def _poll(self, iterator: str) -> None:
        while not self._stop.is_set() and iterator:
            try:
                answer = self._client.get_records(ShardIterator=iterator, Limit=self.mapping.batch_size)
            except (BotoCoreError, ClientError) as exc:
                LOG.warning("%s: reading the stream failed (%s); retrying", self.mapping.function_id, exc)
                self._stop.wait(1.0)
                continue
            records = [stream_record(record, self.mapping.source_arn, self._region) for record in answer["Records"]]
            records = [record for record in records if matches(list(self.mapping.filters), record)]  # FilterCriteria
            if records:
                self._deliver(records)
            elif not answer["Records"]:
                self._stop.wait(0.1)  # nothing new (filtered-out records are read past at once)
            iterator = answer.get("NextShardIterator")

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        attempts = 0
        while records and not self._stop.is_set():
            try:
                failed = _failed_ids(self._invoke(self.mapping.function_id, {"Records": records}))
            except FunctionFailedError:
                if self.mapping.bisect_on_error and len(records) > 1:
                    middle = len(records) // 2
                    self._deliver(records[:middle])
                    self._deliver(records[middle:])
                    return
                failed = [records[0]["dynamodb"]["SequenceNumber"]]
            if not failed:
                return
            sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
            first = min(sequence_numbers.index(number) for number in failed if number in sequence_numbers)
            records = records[first:]
            attempts += 1
            if 0 <= self.mapping.maximum_retry_attempts < attempts:
                LOG.error(
                    "%s: dropping %d stream records after %d retries",
                    self.mapping.function_id,
                    len(records),
                    attempts - 1,
                )
                return
            self._stop.wait(min(0.2 * attempts, 2.0))


class QueuePoller(_Poller):
    _queue_url = ""

    def start(self) -> None:
        queue_name = self.mapping.source_arn.rsplit(":", 1)[-1]
        self._queue_url = self._client.get_queue_url(QueueName=queue_name)["QueueUrl"]
        for index in range(max(1, self.mapping.maximum_concurrency)):
            self._spawn(self._poll, f"sqs:{self.mapping.function_id}:{index}")

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self._client.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=min(10, self.mapping.batch_size),
                    WaitTimeSeconds=1,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = answer.get("Messages", [])
                if messages:
                    self._deliver(messages)
            except (BotoCoreError, ClientError) as exc:
                LOG.warning("%s: polling the queue failed (%s); retrying", self.mapping.function_id, exc)
                self._stop.wait(1.0)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [queue_record(message, self.mapping.source_arn, self._region) for message in messages]
        # FilterCriteria: Lambda deletes the messages that match no filter without invoking.
        passing = {r["messageId"] for r in records if matches(list(self.mapping.filters), r)}
        failed: set[str] = set()
        if passing:
            try:
                answer = self._invoke(
                    self.mapping.function_id, {"Records": [r for r in records if r["messageId"] in passing]}
                )
            except FunctionFailedError:
                failed = passing  # they become visible again after their visibility timeout
            else:
                failed = set(_failed_ids(answer)) if self.mapping.report_batch_item_failures else set()
        done = [message for message in messages if message["MessageId"] not in failed]
        if done:
            self._client.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )


def stream_record(record: dict[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda's event source mapping hands it to a function."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": dynamodb,
        "eventSourceARN": source_arn,
    }


def queue_record(message: dict[str, Any], source_arn: str, region: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to a function: with the system
    attributes it always carries (received without them, they are filled in as of now)."""
    now = str(int(time.time() * 1000))
    system = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": now,
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": now,
        **message.get("Attributes", {}),
    }
    attributes = {}
    for name, value in message.get("MessageAttributes", {}).items():
        binary = value.get("BinaryValue")
        attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary else None,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value["DataType"],
        }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": system,
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": region,
    }


def poller_for(
    mapping: EventSourceMapping, client: Callable[[str], Any], invoke: Invoke, region: str
) -> StreamPoller | QueuePoller:
    if mapping.kind == "DynamoDB":
        return StreamPoller(mapping, client("dynamodbstreams"), invoke, region)
    return QueuePoller(mapping, client("sqs"), invoke, region)


__all__ = ["FunctionFailedError", "QueuePoller", "StreamPoller", "poller_for", "queue_record", "stream_record"]
