"""Jobs test helpers: a pump that plays the upload queue (S3's notifications) and the job queue
through the planner and worker functions, as their event sources would, with faults on demand."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from devserver.pollers import queue_record
from functions.job_planner import handler as planner_function
from functions.job_worker import handler as worker_function
from tests.support.backend import REGION


@dataclass
class JobPump:
    """``pump()`` runs every queued message to the end (new messages included); a message whose
    invocation raised or that was reported failed stays queued (``kept``) unless ``redeliver``."""

    attributes: dict[str, dict[str, Any]]
    context: Any
    sqs: Any = field(default_factory=lambda: boto3.client("sqs", region_name=REGION))
    invocations: int = 0
    before_invoke: Callable[[str, dict[str, Any]], None] | None = None

    def _url(self, logical_id: str) -> str:
        return str(self.attributes[logical_id]["Ref"])

    def receive(self, logical_id: str) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self._url(logical_id), MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        )
        return list(answer.get("Messages", []))

    def pump(self, *, rounds: int = 10_000, duplicate: bool = False) -> int:
        """Runs messages until both queues are empty; ``duplicate``: each is handed over twice."""
        handled = 0
        for _ in range(rounds):
            moved = False
            for logical_id, module in (("JobUploadQueue", planner_function), ("JobQueue", worker_function)):
                for message in self.receive(logical_id):
                    moved = True
                    handled += 1
                    record = queue_record(message, self.attributes[logical_id]["Arn"], REGION)
                    if self.before_invoke is not None:
                        self.before_invoke(logical_id, record)
                    copies = 2 if duplicate else 1
                    failed = False
                    for _ in range(copies):
                        self.invocations += 1
                        try:
                            answer = module.lambda_handler({"Records": [record]}, self.context)
                            failed = failed or bool(answer.get("batchItemFailures"))
                        except Exception:  # noqa: BLE001 - a crashed invocation: the message comes back
                            failed = True
                    if not failed:
                        self.sqs.delete_message(QueueUrl=self._url(logical_id), ReceiptHandle=message["ReceiptHandle"])
            if not moved:
                return handled
        raise AssertionError("the job queues never emptied")

    def queued(self, logical_id: str = "JobQueue") -> int:
        answer = self.sqs.get_queue_attributes(
            QueueUrl=self._url(logical_id), AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(answer["Attributes"]["ApproximateNumberOfMessages"])


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()
