"""The job queue's messages: a chunk of rows, a step of an export, an attempt of a callback.

Every message is safe to receive twice: what it does is guarded by a condition on the
table (the chunk's position, the export's part number, the callback's attempt).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from umapi.api_model import ApiModel
from umapi.errors import ServiceUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

MAX_DELAY_SECONDS = 900
Id = Annotated[str, StringConstraints(pattern=r"^[a-z]{3}_[0-9A-Za-z]{1,64}$")]


class _Message(ApiModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    org_id: Id
    job_id: Id


class ChunkMessage(_Message):
    kind: Literal["chunk"] = "chunk"
    chunk: Annotated[int, Field(ge=0)]
    first_row: Annotated[int, Field(ge=0)]  # the index of the chunk's first row in the job
    start: Annotated[int, Field(ge=0)]  # its bytes in the input: [start, end)
    end: Annotated[int, Field(ge=0)]


class ExportMessage(_Message):
    kind: Literal["export"] = "export"
    step: Annotated[int, Field(ge=0)]


class CallbackMessage(_Message):
    kind: Literal["callback"] = "callback"
    attempt: Annotated[int, Field(ge=1, le=100)]
    not_before: float = 0.0


def first_callback(org_id: str, job_id: str) -> CallbackMessage:
    """The callback's first attempt, due now."""
    return CallbackMessage(org_id=org_id, job_id=job_id, attempt=1, not_before=time.time())


JobMessage = Annotated[ChunkMessage | ExportMessage | CallbackMessage, Field(discriminator="kind")]


class JobQueue:
    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, messages: Sequence[_Message], now: float | None = None) -> None:
        """Queues ``messages`` (a callback's delayed until its ``not_before``, 15 minutes at most)."""
        now = time.time() if now is None else now
        for start in range(0, len(messages), 10):
            entries: list[SendMessageBatchRequestEntryTypeDef] = []
            for index, message in enumerate(messages[start : start + 10]):
                delay = 0
                if isinstance(message, CallbackMessage):
                    delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(message.not_before - now)))
                entries.append({"Id": str(index), "MessageBody": message.model_dump_json(), "DelaySeconds": delay})
            answer = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            if answer.get("Failed"):
                raise ServiceUnavailableError("The job queue refused messages; retry.", retry_after=1)


class S3Object(ApiModel):
    key: str
    size: int = 0


class S3Entity(ApiModel):
    object: S3Object


class S3Record(ApiModel):
    eventName: str  # noqa: N815 (S3's field name)
    s3: S3Entity


class UploadNotice(ApiModel):
    """What S3 tells the upload queue: the objects created (none in S3's ``s3:TestEvent``,
    which it sends once when the notification is configured)."""

    Records: list[S3Record] = []  # noqa: RUF012 - pydantic copies defaults
    Event: str | None = None

    @model_validator(mode="after")
    def _records_or_test(self) -> UploadNotice:
        if not self.Records and self.Event != "s3:TestEvent":
            raise ValueError("neither records nor S3's test event")
        return self

    def created(self) -> list[tuple[str, int]]:
        """``(key, size)`` of every object created."""
        from urllib.parse import unquote_plus

        return [
            (unquote_plus(record.s3.object.key), record.s3.object.size)
            for record in self.Records
            if record.eventName.startswith("ObjectCreated")
        ]
