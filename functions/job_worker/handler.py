"""The job queue → rows, export steps and callbacks (contract §10).

One message at a time per invocation batch item: a chunk of rows (exactly once per row), a
step of an export, an attempt of a callback. A message that fails (the database busy, S3
unreachable) comes back after the visibility timeout and resumes where its work stands; a
malformed one is dropped (no retry can make it right), and after 5 receives a message parks
in the job DLQ.
"""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from umapi.db import RowFencedError
from umapi.errors import DomainError
from umapi.jobs import messages
from umapi.observability import logger, metrics, tracer
from umapi.services import callback_sender, exporter, job_worker

RETRIED = (DomainError, ClientError, BotoCoreError, RowFencedError)


def handle(record: dict[str, Any], context: LambdaContext) -> None:
    message = messages.parse(record["body"])
    if isinstance(message, messages.ChunkMessage):
        job_worker().run_chunk(message, context.get_remaining_time_in_millis)
    elif isinstance(message, messages.ExportMessage):
        exporter().run(message)
    else:
        callback_sender().run(message)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failed = []
    for record in event.get("Records", []):
        try:
            handle(record, context)
        except ValidationError:
            logger.error("malformed job message; dropped", extra={"message_id": record["messageId"]})
            metrics.add_metric(name="MalformedJobMessages", unit="Count", value=1)
        except RETRIED:
            logger.exception("job message failed; it will come back", extra={"message_id": record["messageId"]})
            failed.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failed}


startup.finished()
