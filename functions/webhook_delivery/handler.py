"""Delivery queue → receivers: one attempt per message, the messages of a batch in parallel,
so one slow receiver (up to the 30 s timeout) never holds up the others' deliveries.

A message whose handling raised is reported as a batch item failure and comes back after the
queue's visibility timeout; the delivery's lease and conditional record make that retry safe.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from umapi.errors import DomainError
from umapi.observability import logger, metrics, tracer
from umapi.services import deliverer
from umapi.webhooks.delivery import AttemptInFlightError
from umapi.webhooks.queue import DeliveryMessage

PARALLEL_DELIVERIES = 10
# What fails one message (it comes back, and after 5 receives parks in the DLQ); anything else is
# a bug that fails the batch (every message of it comes back; the attempts are idempotent).
RETRIED = (DomainError, ClientError, BotoCoreError, AttemptInFlightError, ValueError, KeyError, TypeError)


def deliver(record: dict[str, Any]) -> str | None:
    """The record's message id if it failed, else ``None``."""
    try:
        outcome = deliverer().handle(DeliveryMessage.from_body(record["body"]))
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
