"""Upload notifications → chunks (contract §10): S3 tells the upload queue that a job's input
arrived (perhaps twice); the planner reads it once, streamed, and queues one message per chunk
of rows. A notification that fails comes back after the visibility timeout (the planning is
idempotent: a job is planned once)."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from umapi.errors import DomainError
from umapi.jobs.messages import s3_object
from umapi.observability import logger, metrics, tracer
from umapi.services import job_worker


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failed = []
    for record in event.get("Records", []):
        try:
            for key, size in s3_object(record["body"]):
                job_worker().plan(key, size)
        except ValueError:
            logger.error("not an S3 notification; dropped", extra={"message_id": record["messageId"]})
        except (DomainError, ClientError, BotoCoreError):
            logger.exception("planning failed; the notification will come back")
            failed.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failed}


startup.finished()
