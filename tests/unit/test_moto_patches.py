"""The local runtime's faster moto transactions keep DynamoDB's all-or-nothing semantics."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.backend import REGION


def put(pk: str, condition: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {"TableName": "Table", "Item": {"PK": {"S": pk}, "SK": {"S": "X"}, "entity": {"S": "t"}}}
    if condition:
        item["ConditionExpression"] = "attribute_not_exists(PK)"
    return {"Put": item}


def stream_keys() -> list[str]:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = dynamodb.describe_table(TableName="Table")["Table"]["LatestStreamArn"]
    keys = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        for record in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]:
            keys.append(record["dynamodb"]["Keys"]["PK"]["S"])
    return keys


def test_a_failed_condition_writes_nothing_and_names_its_item(aws: Any) -> None:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    dynamodb.transact_write_items(TransactItems=[put("TAKEN")])
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                put("NEW"),
                put("TAKEN"),
                {"Delete": {"TableName": "Table", "Key": {"PK": {"S": "TAKEN"}, "SK": {"S": "Y"}}}},
            ]
        )
    reasons = [reason["Code"] for reason in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed", "None"]
    assert "Item" not in dynamodb.get_item(TableName="Table", Key={"PK": {"S": "NEW"}, "SK": {"S": "X"}})
    assert stream_keys() == ["TAKEN"], "a cancelled transaction leaves no stream record"


def test_a_transaction_whose_conditions_hold_writes_every_item(aws: Any) -> None:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    dynamodb.transact_write_items(
        TransactItems=[
            put("A"),
            put("B", condition=False),
            {
                "Update": {
                    "TableName": "Table",
                    "Key": {"PK": {"S": "C"}, "SK": {"S": "X"}},
                    "UpdateExpression": "SET n = if_not_exists(n, :zero) + :one",
                    "ConditionExpression": "attribute_not_exists(n) OR n < :max",
                    "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}, ":max": {"N": "5"}},
                }
            },
        ]
    )
    for pk in ("A", "B"):
        assert "Item" in dynamodb.get_item(TableName="Table", Key={"PK": {"S": pk}, "SK": {"S": "X"}})
    counter = dynamodb.get_item(TableName="Table", Key={"PK": {"S": "C"}, "SK": {"S": "X"}})["Item"]
    assert counter["n"] == {"N": "1"}


def test_two_operations_on_one_item_are_refused(aws: Any) -> None:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(TransactItems=[put("SAME"), put("SAME", condition=False)])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "Item" not in dynamodb.get_item(TableName="Table", Key={"PK": {"S": "SAME"}, "SK": {"S": "X"}})


def test_concurrent_updates_of_one_item_each_land_and_each_answer_its_own_result(aws: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    key = {"PK": {"S": "HOT"}, "SK": {"S": "X"}}

    def bump(i: int) -> int:
        answer = dynamodb.update_item(
            TableName="Table",
            Key=key,
            UpdateExpression="ADD hits :one SET seen = list_append(if_not_exists(seen, :empty), :me)",
            ExpressionAttributeValues={":one": {"N": "1"}, ":empty": {"L": []}, ":me": {"L": [{"N": str(i)}]}},
            ReturnValues="ALL_NEW",
        )
        return int(answer["Attributes"]["hits"]["N"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        counts = list(pool.map(bump, range(60)))
    item = dynamodb.get_item(TableName="Table", Key=key)["Item"]
    assert sorted(int(v["N"]) for v in item["seen"]["L"]) == list(range(60))  # no update lost
    assert sorted(counts) == list(range(1, 61))  # each answer is the item right after its own update
