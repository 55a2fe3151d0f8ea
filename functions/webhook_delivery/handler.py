"""Delivery queue → receivers: one attempt per message, the messages of a batch in parallel,
so one slow receiver (up to the 30 s timeout) never holds up the others' deliveries.

Each body is parsed with a strict pydantic model: a malformed message can never succeed, so it
goes straight to the dead-letter queue. An expected failure (a domain error, DynamoDB or SQS
refusing, another copy holding the attempt's lease) fails that message only: it comes back
after the queue's visibility timeout, and the delivery's lease and conditional record make
that retry safe. Anything else is a bug and fails the whole batch (``umapi.consumers``).
"""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.consumers import Consumer
from umapi.observability import logger, metrics, tracer
from umapi.services import deliverer
from umapi.settings import get_settings
from umapi.webhooks.queue import DeliveryMessage, DeliveryMessageBody

PARALLEL_DELIVERIES = 10
consumer: Consumer[DeliveryMessageBody] = Consumer(
    "webhook-deliveries", DeliveryMessageBody, lambda: get_settings().webhook_dlq_url, parallel=PARALLEL_DELIVERIES
)


def deliver(body: DeliveryMessageBody) -> None:
    outcome = deliverer().handle(DeliveryMessage.of(body))
    logger.info("webhook delivery", extra={"outcome": outcome, "event_id": body.event_id})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(consumer.run(event, context, deliver))


startup.finished()
