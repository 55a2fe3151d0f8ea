"""The local runtime's faster moto keeps DynamoDB's semantics: all-or-nothing transactions, atomic
requests, partition-only queries, and item answers written as plain JSON that parse as moto's own."""

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


# ---------------------------------------------------------------------- queries read their partition
def gsi1(dynamodb: Any, partition: str, **extra: Any) -> list[str]:
    """The GSI1 partition's items' PKs, in index order, every page."""
    found: list[str] = []
    request: dict[str, Any] = {
        "TableName": "Table",
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :p",
        "ExpressionAttributeValues": {":p": {"S": partition}},
        **extra,
    }
    while True:
        page = dynamodb.query(**request)
        found += [item["PK"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def indexed(pk: str, partition: str, order: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "X"}, "GSI1PK": {"S": partition}, "GSI1SK": {"S": order}}


def test_an_index_query_follows_every_kind_of_write(aws: Any) -> None:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    # Given an index queried once (its partitions built), then written by every kind of request
    dynamodb.put_item(TableName="Table", Item=indexed("A", "P", "3"))
    assert gsi1(dynamodb, "P") == ["A"]
    dynamodb.put_item(TableName="Table", Item=indexed("B", "P", "1"))
    dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": "Table", "Item": indexed("C", "P", "2")}}])
    dynamodb.batch_write_item(
        RequestItems={"Table": [{"PutRequest": {"Item": indexed(f"D{i}", "Q", str(i))}} for i in range(3)]}
    )
    dynamodb.update_item(  # moves A to another partition of the index, in place
        TableName="Table",
        Key={"PK": {"S": "A"}, "SK": {"S": "X"}},
        UpdateExpression="SET GSI1PK = :q",
        ExpressionAttributeValues={":q": {"S": "Q"}},
    )
    dynamodb.delete_item(TableName="Table", Key={"PK": {"S": "D1"}, "SK": {"S": "X"}})
    dynamodb.update_item(  # an item that leaves the index
        TableName="Table",
        Key={"PK": {"S": "D2"}, "SK": {"S": "X"}},
        UpdateExpression="REMOVE GSI1PK",
    )
    # Then every query answers what the table holds, in index order, across pages
    assert gsi1(dynamodb, "P") == ["B", "C"]
    assert gsi1(dynamodb, "Q") == ["D0", "A"]
    assert gsi1(dynamodb, "Q", ScanIndexForward=False, Limit=1) == ["A", "D0"]
    assert gsi1(dynamodb, "nothing") == []


def test_a_failed_conditional_write_leaves_the_index_as_it_was(aws: Any) -> None:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    dynamodb.put_item(TableName="Table", Item=indexed("A", "P", "1"))
    assert gsi1(dynamodb, "P") == ["A"]
    with pytest.raises(ClientError):
        dynamodb.put_item(
            TableName="Table", Item=indexed("A", "Q", "1"), ConditionExpression="attribute_not_exists(PK)"
        )
    assert (gsi1(dynamodb, "P"), gsi1(dynamodb, "Q")) == (["A"], [])


def test_a_query_reads_only_its_partition(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    # Given a table of 2,000 items in other partitions, and a partition of 3
    for start in range(0, 2000, 25):
        items = [indexed(f"OTHER{i}", f"O{i % 50}", str(i)) for i in range(start, start + 25)]
        dynamodb.batch_write_item(RequestItems={"Table": [{"PutRequest": {"Item": item}} for item in items]})
    for pk in ("A", "B", "C"):
        dynamodb.put_item(TableName="Table", Item=indexed(pk, "MINE", pk))
    assert gsi1(dynamodb, "MINE") == ["A", "B", "C"]  # the index's partitions are built once
    # When the index and the table are queried again, no query looks at every item
    looked: list[str] = []
    whole_table = Table.all_items

    def every_item(self: Table) -> list[Any]:
        looked.append("all")
        return whole_table(self)

    monkeypatch.setattr(Table, "all_items", every_item)
    assert gsi1(dynamodb, "MINE") == ["A", "B", "C"]
    page = dynamodb.query(
        TableName="Table", KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "B"}}
    )
    assert [item["PK"]["S"] for item in page["Items"]] == ["B"]
    assert looked == []


def item_operations(dynamodb: Any) -> list[dict[str, Any]]:
    """Every item operation the API makes, with the answers' optional parts present."""
    item = {
        "PK": {"S": "ORG#1"},
        "SK": {"S": "USER#1"},
        "GSI1PK": {"S": "ORG#1#USERS"},
        "GSI1SK": {"S": "a#1"},
        "n": {"N": "1"},
        "tags": {"SS": ["x", "y"]},
        "m": {"M": {"deep": {"L": [{"BOOL": True}, {"NULL": True}, {"B": b"\x00\x01"}]}}},
    }
    key = {"PK": item["PK"], "SK": item["SK"]}
    answers = [
        dynamodb.put_item(TableName="Table", Item=item, ReturnValues="ALL_OLD"),
        dynamodb.put_item(TableName="Table", Item=item, ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL"),
        dynamodb.get_item(TableName="Table", Key=key, ConsistentRead=True),
        dynamodb.get_item(TableName="Table", Key={"PK": {"S": "none"}, "SK": {"S": "none"}}),
        dynamodb.update_item(
            TableName="Table",
            Key=key,
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        dynamodb.query(
            TableName="Table", KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": item["PK"]}, Limit=1
        ),
        dynamodb.query(
            TableName="Table",
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": item["GSI1PK"]},
            Select="COUNT",
        ),
        dynamodb.batch_get_item(RequestItems={"Table": {"Keys": [key, {"PK": {"S": "x"}, "SK": {"S": "y"}}]}}),
        dynamodb.transact_write_items(TransactItems=[put("ORG#2")]),
        dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": "Table", "Key": key}}]),
        dynamodb.batch_write_item(
            RequestItems={"Table": [{"DeleteRequest": {"Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}}}]}
        ),
        dynamodb.delete_item(TableName="Table", Key=key, ReturnValues="ALL_OLD"),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


def test_item_answers_written_as_plain_json_parse_as_moto_serializes_them(
    template: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws
    from moto.dynamodb.responses import DynamoResult

    from devserver import moto_patches
    from tests.support.backend import provision

    answers = []
    for execute in (moto_patches._plain_json_answer, moto_patches._SERIALIZED):
        monkeypatch.setattr(DynamoResult, "execute_result", execute)
        with mock_aws():
            provision(template)
            answers.append(item_operations(boto3.client("dynamodb", region_name=REGION)))
    fast, serialized = answers
    assert fast == serialized
    assert any("Item" in answer for answer in fast)
    assert any("Count" in answer for answer in fast)
