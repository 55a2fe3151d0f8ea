"""Invariants of template.yaml that the API reference and the operations story rely on."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest

from devserver.template import Template

ROOT = Path(__file__).resolve().parents[2]


def functions(template: Template) -> dict[str, dict[str, Any]]:
    return template.resources_of_type("AWS::Serverless::Function")


def test_globals_pin_runtime_architecture_tracing_and_the_layer(template: Template) -> None:
    settings = template.body["Globals"]["Function"]
    assert settings["Runtime"] == "python3.13"
    assert settings["Architectures"] == ["arm64"]
    assert settings["Tracing"] == "Active"
    assert settings["Layers"] == [{"Ref": "CoreLayer"}]
    variables = settings["Environment"]["Variables"]
    assert variables["AWS_ENDPOINT_URL"] == ""
    assert variables["TABLE_NAME"] == {"Ref": "Table"}


def test_the_layer_is_built_by_sam_from_its_python_folder(template: Template) -> None:
    layer = template.resources["CoreLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "requirements.txt").is_file()
    assert (content / "umapi" / "__init__.py").is_file()


def test_the_table_is_single_table_with_stream_ttl_pitr_and_encryption(template: Template) -> None:
    table = template.resources["Table"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert [key["AttributeName"] for key in table["KeySchema"]] == ["PK", "SK"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert template.resources["Table"]["DeletionPolicy"] == "Retain"


def test_the_webhook_dlq_keeps_messages_14_days(template: Template) -> None:
    queue = template.resources["WebhookDeliveryQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["WebhookDeliveryDLQ", "Arn"]}
    assert template.resources["WebhookDeliveryDLQ"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_every_route_is_explicit_on_the_one_api(template: Template) -> None:
    routes = []
    for name, function in functions(template).items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "Api":
                continue
            props = event["Properties"]
            assert props["RestApiId"] == {"Ref": "Api"}, name
            assert "{proxy+}" not in props["Path"], name
            assert props["Method"].lower() != "any", name
            routes.append((props["Method"].upper(), props["Path"]))
    assert ("GET", "/health") in routes
    assert len(routes) == len(set(routes)), "a route is declared twice"
    assert template.resources["Api"]["Properties"]["StageName"] == "v1"


FUNCTIONS = (
    "SystemFunction",
    "TokenFunction",
    "SignInFunction",
    "OrgsFunction",
    "UsersFunction",
    "RolesFunction",
    "WebhooksFunction",
    "WebhookFanoutFunction",
    "WebhookDeliveryFunction",
    "JobsFunction",
    "JobPlannerFunction",
    "JobWorkerFunction",
    "DashboardFunction",
)
# Functions that call no AWS service: their policies are stated, and empty.
NO_AWS_CALLS = {"DashboardFunction"}


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_each_function_has_a_handler_a_log_group_and_its_own_policies(template: Template, function_id: str) -> None:
    props = functions(template)[function_id]["Properties"]
    module, _, attribute = props["Handler"].partition(".")
    source = ROOT / props["CodeUri"] / f"{module}.py"
    defined = {node.name for node in ast.parse(source.read_text()).body if isinstance(node, ast.FunctionDef)}
    assert attribute in defined
    assert "Policies" in props, "every function states its own least-privilege policies"
    assert bool(props["Policies"]) is (function_id not in NO_AWS_CALLS)
    log_group = template.resources[f"{function_id}LogGroup"]["Properties"]
    assert log_group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"}


def test_every_function_is_covered_by_the_per_function_test(template: Template) -> None:
    assert set(functions(template)) == set(FUNCTIONS)


def test_no_policy_grants_scan(template: Template) -> None:
    text = (ROOT / "template.yaml").read_text()
    assert "dynamodb:Scan" not in text
    assert "dynamodb:*" not in text


def test_only_the_token_function_can_read_the_signing_keys(template: Template) -> None:
    readers = {
        name
        for name, function in functions(template).items()
        for policy in function["Properties"].get("Policies", [])
        for statement in policy.get("Statement", [])
        if {"Ref": "SigningKeysSecret"} in _as_list(statement.get("Resource"))
    }
    assert readers == {"TokenFunction"}
    assert "SIGNING_KEYS_SECRET" not in template.body["Globals"]["Function"]["Environment"]["Variables"]


def _table_actions(function: dict[str, Any]) -> set[str]:
    return {
        action
        for policy in function["Properties"].get("Policies", [])
        for statement in policy.get("Statement", [])
        if {"Fn::GetAtt": ["Table", "Arn"]} in _as_list(statement.get("Resource"))
        for action in statement["Action"]
    }


def test_functions_that_authenticate_may_batch_read_the_table(template: Template) -> None:
    """The authenticator reads the client and the user in one BatchGetItem, and its roles in
    another: without dynamodb:BatchGetItem every authenticated route fails once deployed."""
    authenticating = set()
    for name, function in functions(template).items():
        props = function["Properties"]
        module = importlib.import_module(".".join(Path(props["CodeUri"]).parts) + ".handler")
        if getattr(getattr(module, "app", None), "authenticate", None) is not None:
            authenticating.add(name)
            assert "dynamodb:BatchGetItem" in _table_actions(function), name
    assert authenticating == {
        "OrgsFunction",
        "UsersFunction",
        "RolesFunction",
        "WebhooksFunction",
        "JobsFunction",
        "TokenFunction",  # /userinfo
    }


def _event_source(template: Template, function_id: str, kind: str) -> dict[str, Any]:
    (source,) = [
        event["Properties"]
        for event in functions(template)[function_id]["Properties"]["Events"].values()
        if event["Type"] == kind
    ]
    return dict(source)


def test_the_webhook_event_sources_retry_and_report_partial_failures(template: Template) -> None:
    stream = _event_source(template, "WebhookFanoutFunction", "DynamoDB")
    assert stream["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["BisectBatchOnFunctionError"] is True
    assert 0 < stream["MaximumRetryAttempts"] <= 10_000
    assert "Destination" in stream["DestinationConfig"]["OnFailure"]
    queue = _event_source(template, "WebhookDeliveryFunction", "SQS")
    assert queue["Queue"] == {"Fn::GetAtt": ["WebhookDeliveryQueue", "Arn"]}
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= queue["BatchSize"] <= 10
    delivery_timeout = functions(template)["WebhookDeliveryFunction"]["Properties"]["Timeout"]
    visibility = template.resources["WebhookDeliveryQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * delivery_timeout, "AWS: visibility at least 6x the function timeout"
    redrive = template.resources["WebhookDeliveryQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["WebhookDeliveryDLQ", "Arn"]}


def test_the_contract_alarms_exist_and_notify(template: Template) -> None:
    alarms = template.resources_of_type("AWS::CloudWatch::Alarm")
    by_threshold = {
        (props.get("ExtendedStatistic"), props.get("MetricName"), props["Threshold"])
        for props in (alarm["Properties"] for alarm in alarms.values())
    }
    assert ("p95", "Latency", 500) in by_threshold
    assert ("p99", "Latency", 1000) in by_threshold
    rate = alarms["ServerErrorRateAlarm"]["Properties"]
    assert rate["Threshold"] == 1
    assert "errors / requests" in next(m["Expression"] for m in rate["Metrics"] if "Expression" in m)
    dead_letter_queues = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms.values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    assert dead_letter_queues == {"WebhookDeliveryDLQ", "WebhookFanoutDLQ", "JobDLQ"}
    assert "DynamoDBThrottleAlarm" in alarms
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    assert template.resources_of_type("AWS::CloudWatch::Dashboard")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_alarms_can_publish_to_their_encrypted_topic(template: Template) -> None:
    """CloudWatch cannot use the AWS-managed alias/aws/sns key: a topic encrypted with it never
    notifies. The topic's key is our own, and its policy lets CloudWatch use it."""
    resources = template.body["Resources"]
    topic = resources["AlarmTopic"]["Properties"]
    key_ref = topic.get("KmsMasterKeyId")
    assert key_ref != "alias/aws/sns"
    assert isinstance(key_ref, dict)
    key = resources[key_ref["Ref"]]
    assert key["Type"] == "AWS::KMS::Key"
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"]
    assert cloudwatch
    actions = set(cloudwatch[0]["Action"])
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= actions
    alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms
    assert all({"Ref": "AlarmTopic"} in a["Properties"]["AlarmActions"] for a in alarms)
