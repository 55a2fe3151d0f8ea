"""Webhook test helpers: a receiver on 127.0.0.1, and a pump that plays the table stream and
the delivery queue through the fan-out and delivery functions, as their event sources would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from devserver.pollers import queue_record, stream_record
from functions.webhook_delivery import handler as delivery_function
from functions.webhook_fanout import handler as fanout_function
from tests.support.backend import REGION


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next status of ``statuses`` (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    url: str = ""
    delay: float = 0.0  # seconds before answering

    def status_for(self, index: int) -> int:
        return self.statuses[min(index, len(self.statuses) - 1)]


@contextmanager
def receiver(*statuses: int, delay: float = 0.0) -> Iterator[Receiver]:
    state = Receiver(list(statuses) or [200], delay=delay)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                status = state.status_for(len(state.received))
                state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            time.sleep(state.delay)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class Pump:
    """Feeds new stream records to the fan-out and queued messages to the delivery function."""

    def __init__(self, context: Any, table: str = "Table") -> None:
        self._context = context
        self._streams = boto3.client("dynamodbstreams", region_name=REGION)
        self._sqs = boto3.client("sqs", region_name=REGION)
        self.stream_arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        self.queue_url = self._sqs.get_queue_url(QueueName="WebhookDeliveryQueue")["QueueUrl"]
        self.dlq_url = self._sqs.get_queue_url(QueueName="WebhookDeliveryDLQ")["QueueUrl"]
        self._seen: set[str] = set()

    def new_stream_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard in self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
            iterator = self._streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                answer = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                if not answer["Records"]:
                    break
                records += [dict(r) for r in answer["Records"]]
                iterator = answer.get("NextShardIterator")
        fresh = [r for r in records if r["dynamodb"]["SequenceNumber"] not in self._seen]
        self._seen |= {r["dynamodb"]["SequenceNumber"] for r in fresh}
        return [stream_record(r, self.stream_arn, REGION) for r in fresh]

    def fan_out(self, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        batch = self.new_stream_records() if records is None else records
        return dict(fanout_function.lambda_handler({"Records": batch}, self._context))

    def receive(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=queue_url or self.queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        )
        return [dict(m) for m in answer.get("Messages", [])]

    def deliver(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """One invocation of the delivery function; messages that succeeded are deleted."""
        records = [queue_record(m, "arn:aws:sqs:us-east-1:123456789012:WebhookDeliveryQueue", REGION) for m in messages]
        answer = dict(delivery_function.lambda_handler({"Records": records}, self._context))
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return answer

    def run(self, rounds: int = 50) -> int:
        """Fan out what is new, then deliver until the queue is empty; returns messages handled."""
        self.fan_out()
        handled = 0
        for _ in range(rounds):
            messages = self.receive()
            if not messages:
                return handled
            self.deliver(messages)
            handled += len(messages)
        raise AssertionError("the delivery queue never drained")

    def queue_attributes(self) -> dict[str, str]:
        attributes = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["All"])["Attributes"]
        return {str(name): value for name, value in attributes.items()}

    def message(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` queued now and received, as SQS hands it to ``deliver`` (call it on a queue
        with nothing else visible)."""
        sent = self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
        (received,) = self.receive()
        assert received["MessageId"] == sent["MessageId"]
        return received

    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.receive(self.dlq_url)]
