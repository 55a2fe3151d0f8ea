"""Every SQS consumer has one shape (umapi.consumers): a malformed message reaches its queue's
dead-letter queue at once and is counted; a transient failure fails that message only; a bug
fails the batch. On moto, through the functions' handlers, for each queue."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devserver.pollers import queue_record
from functions.job_planner import handler as planner_function
from functions.job_worker import handler as worker_function
from functions.webhook_delivery import handler as delivery_function
from tests.support.backend import REGION

# queue (logical id) -> (its consumer's handler module, its dead-letter queue)
CONSUMERS = {
    "JobUploadQueue": (planner_function, "JobDLQ"),
    "JobQueue": (worker_function, "JobDLQ"),
    "WebhookDeliveryQueue": (delivery_function, "WebhookDeliveryDLQ"),
}
MALFORMED = {
    "not json": "{'chunk': 1",
    "a list": json.dumps(["not", "an", "object"]),
    "an unknown kind": json.dumps({"kind": "teleport", "org_id": "org_1", "job_id": "job_1"}),
    "fields missing": json.dumps({"org_id": "org_1"}),
    "wrong types": json.dumps({"Records": "many", "org_id": 1, "job_id": 2, "kind": "chunk"}),
}


def send_and_receive(sqs: Any, url: str, body: str) -> dict[str, Any]:
    drain(sqs, url)  # S3 put its test event on the upload queue when the bucket was set up
    sqs.send_message(QueueUrl=url, MessageBody=body)
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    return dict(message)


def drain(sqs: Any, url: str) -> list[str]:
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


@pytest.mark.usefixtures("platform")  # the settings the template gives the functions
@pytest.mark.parametrize("queue", sorted(CONSUMERS))
@pytest.mark.parametrize("body", sorted(MALFORMED), ids=sorted(MALFORMED))
def test_a_malformed_message_goes_to_its_dead_letter_queue_once_and_is_counted(
    aws: dict[str, dict[str, Any]], lambda_context: Any, capsys: pytest.CaptureFixture[str], queue: str, body: str
) -> None:
    module, dead_letter_queue = CONSUMERS[queue]
    sqs = boto3.client("sqs", region_name=REGION)
    drain(sqs, aws[dead_letter_queue]["Ref"])
    message = send_and_receive(sqs, aws[queue]["Ref"], MALFORMED[body])

    answer = module.lambda_handler({"Records": [queue_record(message, aws[queue]["Arn"], REGION)]}, lambda_context)

    assert answer == {"batchItemFailures": []}  # never retried: no retry could make it right
    assert drain(sqs, aws[dead_letter_queue]["Ref"]) == [MALFORMED[body]]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"MalformedMessages"' in line]
    assert [m["MalformedMessages"] for m in metrics] == [[1.0]]
    assert metrics[0]["queue"] == module.consumer.queue


@pytest.mark.usefixtures("platform")
def test_s3s_test_event_is_no_malformed_message(aws: dict[str, dict[str, Any]], lambda_context: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    drain(sqs, aws["JobDLQ"]["Ref"])
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "jobs", "RequestId": "r", "HostId": "h"}
    message = send_and_receive(sqs, aws["JobUploadQueue"]["Ref"], json.dumps(test_event))
    record = queue_record(message, aws["JobUploadQueue"]["Arn"], REGION)

    assert planner_function.lambda_handler({"Records": [record]}, lambda_context) == {"batchItemFailures": []}
    assert drain(sqs, aws["JobDLQ"]["Ref"]) == []


@pytest.mark.usefixtures("platform")
def test_a_transient_failure_fails_that_message_only(
    aws: dict[str, dict[str, Any]], lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = aws["JobQueue"]["Ref"]
    bodies = [
        json.dumps({"kind": "export", "org_id": "org_1", "job_id": "job_busy", "step": 0}),
        json.dumps({"kind": "export", "org_id": "org_1", "job_id": "job_fine", "step": 0}),
    ]
    records = [queue_record(send_and_receive(sqs, url, body), aws["JobQueue"]["Arn"], REGION) for body in bodies]
    ran: list[str] = []

    class Exporter:
        def run(self, message: Any) -> None:
            ran.append(message.job_id)
            if message.job_id == "job_busy":
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    monkeypatch.setattr(worker_function, "exporter", Exporter)
    answer = worker_function.lambda_handler({"Records": records}, lambda_context)

    assert ran == ["job_busy", "job_fine"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}


@pytest.mark.usefixtures("platform")
def test_a_bug_fails_the_whole_batch(
    aws: dict[str, dict[str, Any]], lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    body = json.dumps({"kind": "export", "org_id": "org_1", "job_id": "job_1", "step": 0})
    record = queue_record(send_and_receive(sqs, aws["JobQueue"]["Ref"], body), aws["JobQueue"]["Arn"], REGION)

    class Exporter:
        def run(self, message: Any) -> None:
            raise KeyError("a bug")

    monkeypatch.setattr(worker_function, "exporter", Exporter)
    with pytest.raises(KeyError):
        worker_function.lambda_handler({"Records": [record]}, lambda_context)
