"""Records each SQS message in SinkTable; reports messages whose body is ``fail`` as failures."""

import os
from typing import Any

import boto3

sink = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        sink.update_item(
            TableName=os.environ["SINK_TABLE"],
            Key={"PK": {"S": "queue"}, "SK": {"S": record["messageId"]}},
            UpdateExpression="ADD attempts :one SET body = :body, receive_count = :count",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":body": {"S": record["body"]},
                ":count": {"S": record["attributes"]["ApproximateReceiveCount"]},
            },
        )
        if record["body"] == "fail":
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
