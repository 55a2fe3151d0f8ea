"""The job queue → rows, export steps and callbacks (docs/api.md §10).

One message at a time per invocation batch item: a chunk of rows (exactly once per row), a
step of an export, an attempt of a callback. A message that fails (the database busy, S3
unreachable) comes back after the visibility timeout and resumes where its work stands, and
after 5 receives parks in the job DLQ; a malformed one goes to the DLQ at once
(``umapi.consumers``).
"""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.consumers import Consumer
from umapi.jobs.messages import CallbackMessage, ChunkMessage, ExportMessage, JobMessage
from umapi.observability import logger, metrics, tracer
from umapi.services import callback_sender, exporter, job_worker
from umapi.settings import get_settings

consumer: Consumer[ChunkMessage | ExportMessage | CallbackMessage] = Consumer(
    "jobs", JobMessage, lambda: get_settings().job_dlq_url
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def handle(message: ChunkMessage | ExportMessage | CallbackMessage) -> None:
        if isinstance(message, ChunkMessage):
            job_worker().run_chunk(message, context.get_remaining_time_in_millis)
        elif isinstance(message, ExportMessage):
            exporter().run(message)
        else:
            callback_sender().run(message)

    return dict(consumer.run(event, context, handle))


startup.finished()
