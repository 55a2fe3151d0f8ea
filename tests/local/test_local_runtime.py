"""The local runtime itself, on a throwaway stack: concurrency, isolation, body guards over HTTP,
and the DynamoDB Stream and SQS pollers invoking functions with real-shaped events."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from devserver.runtime import LocalRuntime

pytestmark = pytest.mark.e2e


def wait_for(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout} s")


def sink_item(runtime: LocalRuntime, pk: str, sk: str) -> dict[str, Any] | None:
    table = runtime.intrinsics.attributes["SinkTable"]["Ref"]
    item = runtime.backend.client("dynamodb").get_item(
        TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
    )
    found: dict[str, Any] | None = item.get("Item")
    return found


def test_twenty_concurrent_requests_are_served_in_parallel(throwaway: LocalRuntime) -> None:
    # Given a route that takes 0.5 s per request (warmed once)
    requests.get(f"{throwaway.url}/slow/warm", params={"seconds": "0"}, timeout=30)

    # When 20 requests arrive at once
    def get(index: int) -> dict[str, Any]:
        response = requests.get(f"{throwaway.url}/slow/t{index}", params={"seconds": "0.5"}, timeout=60)
        assert response.status_code == 200
        return dict(response.json())

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(get, range(20)))
    elapsed = time.perf_counter() - started

    # Then they overlap (serially they would take 10 s), and each got its own answer
    assert elapsed < 6.0, f"20 x 0.5 s requests took {elapsed:.1f} s"
    assert [answer["tag"] for answer in answers] == [f"t{i}" for i in range(20)]
    assert len({answer["pid"] for answer in answers}) > 1
    assert {answer["function"] for answer in answers} == {"SlowFunction"}


def test_layer_body_guards_over_http(throwaway: LocalRuntime) -> None:
    url = f"{throwaway.url}/echo"
    ok = requests.post(url, json={"message": "hi"}, timeout=30)
    assert ok.status_code == 200
    assert ok.json() == {"message": "hi"}

    malformed = requests.post(url, data='{"message":', headers={"Content-Type": "application/json"}, timeout=30)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "validation_error"
    assert malformed.json()["error"]["request_id"] == malformed.headers["X-Request-Id"]

    wrong_type = requests.post(url, data="message=hi", timeout=30)
    assert wrong_type.status_code == 415
    assert wrong_type.json()["error"]["code"] == "unsupported_media_type"

    oversize = requests.post(
        url,
        data='{"message": "' + "x" * (1024 * 1024) + '"}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert oversize.status_code == 413
    assert oversize.json()["error"]["code"] == "payload_too_large"


def test_stream_records_reach_the_stream_function(throwaway: LocalRuntime) -> None:
    # Given an item written to the streamed table
    key = uuid.uuid4().hex
    table = throwaway.intrinsics.attributes["SourceTable"]["Ref"]
    throwaway.backend.client("dynamodb").put_item(TableName=table, Item={"PK": {"S": key}, "SK": {"S": "a"}})

    # Then the stream function is invoked once with a Lambda-shaped INSERT record
    item = wait_for(lambda: sink_item(throwaway, "stream", f"{key}|a"))
    assert item["event_name"]["S"] == "INSERT"
    assert item["attempts"]["N"] == "1"
    assert item["source_arn"]["S"] == throwaway.intrinsics.attributes["SourceTable"]["StreamArn"]


def test_stream_records_the_filter_criteria_drop_never_reach_the_function(throwaway: LocalRuntime) -> None:
    # Given a record the mapping's FilterCriteria drops, then one it lets through
    key = uuid.uuid4().hex
    table = throwaway.intrinsics.attributes["SourceTable"]["Ref"]
    dynamodb = throwaway.backend.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"PK": {"S": key}, "SK": {"S": "dropped"}, "skip": {"S": "yes"}})
    dynamodb.put_item(TableName=table, Item={"PK": {"S": key}, "SK": {"S": "kept"}})

    # Then only the second is delivered (records of a shard arrive in order)
    wait_for(lambda: sink_item(throwaway, "stream", f"{key}|kept"))
    assert sink_item(throwaway, "stream", f"{key}|dropped") is None


def test_stream_item_failures_are_retried_from_the_failed_record(throwaway: LocalRuntime) -> None:
    # Given a record the function rejects twice before accepting, followed by another record
    key = uuid.uuid4().hex
    table = throwaway.intrinsics.attributes["SourceTable"]["Ref"]
    dynamodb = throwaway.backend.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"PK": {"S": key}, "SK": {"S": "flaky"}, "fail_times": {"N": "2"}})
    dynamodb.put_item(TableName=table, Item={"PK": {"S": key}, "SK": {"S": "after"}})

    # Then the failing record is delivered three times and the next one still arrives, once
    wait_for(lambda: sink_item(throwaway, "stream", f"{key}|after"))
    assert sink_item(throwaway, "stream", f"{key}|flaky")["attempts"]["N"] == "3"  # type: ignore[index]
    assert sink_item(throwaway, "stream", f"{key}|after")["attempts"]["N"] == "1"  # type: ignore[index]


def test_queue_messages_reach_the_queue_function_and_are_deleted(throwaway: LocalRuntime) -> None:
    sqs = throwaway.backend.client("sqs")
    queue_url = throwaway.intrinsics.attributes["WorkQueue"]["Ref"]
    message_id = sqs.send_message(QueueUrl=queue_url, MessageBody="hello")["MessageId"]

    item = wait_for(lambda: sink_item(throwaway, "queue", message_id))
    assert item["body"]["S"] == "hello"
    time.sleep(4)  # past the 3 s visibility timeout: a message left undeleted would come back
    assert sink_item(throwaway, "queue", message_id)["attempts"]["N"] == "1"  # type: ignore[index]


def test_failed_queue_messages_are_retried_then_dead_lettered(throwaway: LocalRuntime) -> None:
    sqs = throwaway.backend.client("sqs")
    queue_url = throwaway.intrinsics.attributes["WorkQueue"]["Ref"]
    dlq_url = throwaway.intrinsics.attributes["WorkDLQ"]["Ref"]
    message_id = sqs.send_message(QueueUrl=queue_url, MessageBody="fail")["MessageId"]

    def dead_lettered() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        return [m for m in messages if m["MessageId"] == message_id]

    assert wait_for(dead_lettered, timeout=20)
    assert sink_item(throwaway, "queue", message_id)["attempts"]["N"] == "2"  # type: ignore[index]
