"""Records every stream record it is given in SinkTable. A record whose NewImage says
``fail_times: N`` is reported as a batch item failure on its first N deliveries."""

import os
from typing import Any

import boto3

sink = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = os.environ["SINK_TABLE"]
    for record in event["Records"]:
        keys = record["dynamodb"]["Keys"]
        attempts = sink.update_item(
            TableName=table,
            Key={"PK": {"S": "stream"}, "SK": {"S": keys["PK"]["S"] + "|" + keys["SK"]["S"]}},
            UpdateExpression="ADD attempts :one SET event_name = :name, source_arn = :arn",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":name": {"S": record["eventName"]},
                ":arn": {"S": record["eventSourceARN"]},
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]["attempts"]["N"]
        fail_times = int(record["dynamodb"].get("NewImage", {}).get("fail_times", {}).get("N", "0"))
        if int(attempts) <= fail_times:
            return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    return {"batchItemFailures": []}
