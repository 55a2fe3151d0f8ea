"""One shape for every queue consumer: Powertools' ``BatchProcessor`` over a pydantic model of
the queue's message bodies.

What happens to a message is decided here, once for every queue:

- **malformed** (the model refuses its body): no retry can make it right, so it goes to the
  queue's dead-letter queue at once, counted by the ``MalformedMessages`` metric (dimension
  ``queue``), and is deleted from the queue;
- **retried** (an error in ``RETRIED``: a domain error such as a busy table, DynamoDB, S3 or SQS
  refusing, another copy of the message holding the work): that message alone fails and comes
  back after the queue's visibility timeout; after 5 receives the queue's redrive parks it in
  the dead-letter queue. All work a message does is idempotent, so a retry is safe;
- **anything else** is a bug: it fails the whole batch (every message of it comes back) instead
  of looking like a transient failure.

A consumer may handle the messages of a batch in parallel (webhook delivery does, so one slow
receiver never holds up the others).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models.sqs import SqsRecordModel
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Json, create_model

from umapi.aws import sqs_client
from umapi.errors import DomainError, RetryLaterError
from umapi.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

RETRIED: tuple[type[BaseException], ...] = (DomainError, ClientError, BotoCoreError, RetryLaterError)

Message = TypeVar("Message")


class Consumer(BatchProcessor, Generic[Message]):
    """The consumer of one queue: ``queue`` names it in logs and metrics, ``message`` is the
    model of its bodies (a pydantic model or an annotated union of them), ``dead_letter_url``
    says where a malformed message goes (read when one arrives), ``parallel`` how many
    messages of a batch run at once."""

    def __init__(self, queue: str, message: Any, dead_letter_url: Callable[[], str], *, parallel: int = 1) -> None:
        body: Any = Json.__class_getitem__(message)  # type: ignore[type-arg]  # Json[message], built at run time
        record = create_model(f"{queue.title().replace('-', '')}Record", __base__=SqsRecordModel, body=(body, ...))
        super().__init__(event_type=EventType.SQS, model=record, raise_on_entire_batch_failure=False)
        self.queue = queue
        self._dead_letter_url = dead_letter_url
        self._parallel = parallel

    def run(
        self, event: dict[str, Any], context: LambdaContext, handle: Callable[[Message], None]
    ) -> PartialItemFailureResponse:
        """Hands each well-formed message of ``event`` to ``handle``; answers the batch's failures."""

        def record_handler(record: Any) -> None:
            handle(record.body)

        return process_partial_response(event=event, record_handler=record_handler, processor=self, context=context)

    def process(self) -> list[Any]:
        if self._parallel <= 1 or len(self.records) <= 1:
            return super().process()
        with ThreadPoolExecutor(max_workers=min(self._parallel, len(self.records))) as pool:
            return list(pool.map(self._process_record, self.records))

    def failure_handler(self, record: Any, exception: Any) -> Any:
        error = exception[1]
        if not isinstance(error, RETRIED):
            raise error  # a bug: the whole batch comes back
        logger.warning(
            "queue message failed; it will come back",
            exc_info=exception,
            extra={"queue": self.queue, "message_id": _message_id(record)},
        )
        return super().failure_handler(record, exception)

    def _register_model_validation_error_record(self, record: dict[str, Any]) -> Any:
        """A malformed message: parked in the dead-letter queue at once, never retried."""
        logger.error(
            "malformed queue message; parked in the dead-letter queue",
            extra={"queue": self.queue, "message_id": record.get("messageId")},
        )
        try:
            sqs_client().send_message(QueueUrl=self._dead_letter_url(), MessageBody=str(record.get("body", "")))
        except RETRIED:
            return super()._register_model_validation_error_record(record)  # it comes back; park it then
        with single_metric(name="MalformedMessages", unit=MetricUnit.Count, value=1) as metric:
            metric.add_dimension(name="queue", value=self.queue)
        return self.success_handler(record=record, result=None)


def _message_id(record: Any) -> str | None:
    return getattr(record, "messageId", None) or getattr(record, "message_id", None)
