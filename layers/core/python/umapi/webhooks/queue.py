"""The delivery queue's messages: one per (event, subscription, attempt).

SQS delays a message by at most 15 minutes. A later attempt carries ``not_before``; the
delivery function puts a message that arrives early back with the remaining delay (a hop of
at most 15 minutes), so a 24-hour retry is 96 hops and never a sleeping function.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, NamedTuple

from pydantic import ConfigDict, Field, StringConstraints

from umapi.api_model import ApiModel
from umapi.errors import ServiceUnavailableError

MAX_DELAY_SECONDS = 900


Id = Annotated[str, StringConstraints(pattern=r"^[a-z]{3}_[0-9A-Za-z]{1,64}$")]


class DeliveryMessageBody(ApiModel):
    """The message's JSON, checked strictly: anything else is malformed (``umapi.consumers``)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    org_id: Id
    event_id: Id
    webhook_id: Id
    generation: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    attempt: Annotated[int, Field(ge=1, le=100)]
    not_before: float | int


class DeliveryMessage(NamedTuple):
    org_id: str
    event_id: str
    webhook_id: str
    generation: str
    attempt: int
    not_before: float  # Unix time before which the attempt must not run

    @classmethod
    def of(cls, parsed: DeliveryMessageBody) -> DeliveryMessage:
        return cls(**{**parsed.model_dump(), "not_before": float(parsed.not_before)})

    def body(self) -> str:
        return json.dumps(self._asdict(), separators=(",", ":"))


class DeliveryQueue:
    def __init__(self, sqs: Any, queue_url: str, dead_letter_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._dead_letter_url = dead_letter_url

    def send(self, messages: list[DeliveryMessage], now: float) -> None:
        """Queues ``messages``, each delayed until its ``not_before`` (15 minutes at most)."""
        for start in range(0, len(messages), 10):
            entries = [
                {
                    "Id": str(index),
                    "MessageBody": message.body(),
                    "DelaySeconds": min(MAX_DELAY_SECONDS, max(0, math.ceil(message.not_before - now))),
                }
                for index, message in enumerate(messages[start : start + 10])
            ]
            answer = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            if answer.get("Failed"):
                raise ServiceUnavailableError("The delivery queue refused messages; retry.", retry_after=1)

    def send_dead(self, message: DeliveryMessage) -> None:
        """Parks a delivery that failed its last attempt in the dead-letter queue."""
        self._sqs.send_message(QueueUrl=self._dead_letter_url, MessageBody=message.body())
