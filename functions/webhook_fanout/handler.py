"""Table stream → delivery queue: one message per (new outbox event, matching subscription).

Only inserted outbox events reach it: the mapping's FilterCriteria drops every other change
(the local runtime honours it too), and the same test is still this function's first line. A record that
fails is reported as a batch item failure: the stream retries from it, and the fan-out is
idempotent, so nothing is lost or sent twice.
"""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.observability import logger, metrics, tracer
from umapi.services import fan_out

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    queued = fan_out().handle(record.raw_event)
    if queued:
        metrics.add_metric(name="WebhookDeliveriesQueued", unit="Count", value=queued)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    fan_out().new_batch()
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )


startup.finished()
