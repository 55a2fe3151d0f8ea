"""Upload notifications → chunks (docs/api.md §10): S3 tells the upload queue that a job's input
arrived (perhaps twice); the planner reads it once, streamed, and queues one message per chunk
of rows. A notification that fails comes back after the visibility timeout (the planning is
idempotent: a job is planned once); one that is not an S3 notification goes to the job DLQ
(``umapi.consumers``)."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.consumers import Consumer
from umapi.jobs.messages import UploadNotice
from umapi.observability import logger, metrics, tracer
from umapi.services import job_worker
from umapi.settings import get_settings

consumer: Consumer[UploadNotice] = Consumer("job-uploads", UploadNotice, lambda: get_settings().job_dlq_url)


def plan(notice: UploadNotice) -> None:
    for key, size in notice.created():
        job_worker().plan(key, size)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(consumer.run(event, context, plan))


startup.finished()
