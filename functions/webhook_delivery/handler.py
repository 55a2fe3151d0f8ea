"""Delivery queue → receivers: one attempt per message, the messages of a batch in parallel,
so one slow receiver (up to the 30 s timeout) never holds up the others' deliveries.

Each body is parsed with a strict pydantic model: a malformed message can never succeed, so it
goes straight to the dead-letter queue. An expected failure (a domain error, DynamoDB or SQS
refusing, another copy holding the attempt's lease) fails that message only: it comes back
after the queue's visibility timeout, and the delivery's lease and conditional record make
that retry safe. Anything else is a bug and fails the whole batch.
"""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from umapi.errors import DomainError
from umapi.observability import logger, metrics, tracer
from umapi.services import deliverer, delivery_queue
from umapi.webhooks.delivery import AttemptInFlightError
from umapi.webhooks.queue import DeliveryMessage, MalformedMessageError

PARALLEL_DELIVERIES = 10
# What fails one message (it comes back, and after 5 receives parks in the DLQ); anything else is
# a bug that fails the batch (every message of it comes back; the attempts are idempotent).
RETRIED = (DomainError, ClientError, BotoCoreError, AttemptInFlightError)


def deliver(record: dict[str, Any]) -> str | None:
    """The record's message id if it failed, else ``None``."""
    try:
        message = DeliveryMessage.from_body(record["body"])
    except MalformedMessageError as problem:
        logger.error("malformed delivery message; parked in the DLQ", extra={"message_id": record["messageId"]})
        metrics.add_metric(name="MalformedDeliveryMessages", unit="Count", value=1)
        delivery_queue().send_dead(record["body"])
        logger.debug(str(problem))
        return None
    try:
        outcome = deliverer().handle(message)
    except RETRIED:
        logger.exception(
            "webhook delivery failed; the message will be retried", extra={"message_id": record["messageId"]}
        )
        return str(record["messageId"])
    logger.info("webhook delivery", extra={"outcome": outcome, "message_id": record["messageId"]})
    return None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    with ThreadPoolExecutor(max_workers=min(PARALLEL_DELIVERIES, max(1, len(records)))) as pool:
        failed = [message_id for message_id in pool.map(deliver, records) if message_id]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


startup.finished()
