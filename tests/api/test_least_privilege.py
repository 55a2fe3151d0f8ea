"""The least-privilege check of every test run (tests/support/iam.py) itself: how AWS calls
become IAM requests, which statements allow them, and which grants count as unused. And the
job functions' grants, scoped to what their code does (docs/api.md §10)."""

from __future__ import annotations

from typing import Any

import pytest

from devserver.template import Intrinsics, Template
from tests.support import iam

ATTRIBUTES: dict[str, dict[str, Any]] = {
    "Table": {"Ref": "Table", "Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/Table"},
    "JobsBucket": {"Ref": "jobs-bucket", "Arn": "arn:aws:s3:::jobs-bucket"},
    "JobQueue": {
        "Ref": "https://sqs.us-east-1.amazonaws.com/123456789012/JobQueue",
        "Arn": "arn:aws:sqs:us-east-1:123456789012:JobQueue",
    },
    "JobDLQ": {
        "Ref": "https://sqs.us-east-1.amazonaws.com/123456789012/JobDLQ",
        "Arn": "arn:aws:sqs:us-east-1:123456789012:JobDLQ",
    },
}
TABLE = ATTRIBUTES["Table"]["Arn"]


def test_a_transaction_asks_for_each_items_own_action() -> None:
    items = [
        {"Put": {"TableName": "Table", "Item": {}}},
        {"Update": {"TableName": "Table", "Key": {}}},
        {"ConditionCheck": {"TableName": "Table", "Key": {}}},
    ]
    found = iam.requests_of("dynamodb", "TransactWriteItems", {"TransactItems": items}, ATTRIBUTES)
    assert [r.action for r in found] == ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
    assert {r.resource for r in found} == {TABLE}


def test_an_index_query_asks_on_the_index_and_multipart_steps_are_put_object() -> None:
    [query] = iam.requests_of("dynamodb", "Query", {"TableName": "Table", "IndexName": "GSI2"}, ATTRIBUTES)
    assert query == iam.Request("dynamodb:Query", f"{TABLE}/index/GSI2")
    [part] = iam.requests_of("s3", "UploadPart", {"Bucket": "jobs-bucket", "Key": "results/o/j.csv"}, ATTRIBUTES)
    assert part == iam.Request("s3:PutObject", "arn:aws:s3:::jobs-bucket/results/o/j.csv")


def test_a_statement_allows_only_its_actions_resources_and_conditions() -> None:
    scoped = iam.Statement(0, ("s3:GetObject",), ("arn:aws:s3:::jobs-bucket/results/*",))
    assert scoped.allows(iam.Request("s3:GetObject", "arn:aws:s3:::jobs-bucket/results/o/j.csv"))
    assert scoped.allows(iam.Request("s3:GetObject", "arn:aws:s3:::jobs-bucket/inputs/o/j")) is None
    assert scoped.allows(iam.Request("s3:PutObject", "arn:aws:s3:::jobs-bucket/results/o/j.csv")) is None
    mail = iam.Statement(1, ("ses:SendRawEmail",), ("*",), (("ses:FromAddress", "no-reply@example.com"),))
    assert mail.allows(iam.Request("ses:SendRawEmail", "*", (("ses:FromAddress", "no-reply@example.com"),)))
    assert mail.allows(iam.Request("ses:SendRawEmail", "*", (("ses:FromAddress", "ceo@example.com"),))) is None


def test_an_action_or_resource_no_call_used_is_reported() -> None:
    grants = {
        ("F", 0, "s3:GetObject", "'inputs'"),
        ("F", 0, "s3:GetObject", "'results'"),
        ("F", 0, "s3:PutObject", "'inputs'"),
        ("F", 0, "s3:PutObject", "'results'"),
    }
    used = {("F", 0, "s3:GetObject", "'inputs'"), ("F", 0, "s3:GetObject", "'results'")}
    assert iam.unused(grants, used) == ["F statement 0: s3:PutObject is granted but never used"]
    assert iam.unused(grants, used | {("F", 0, "s3:PutObject", "'inputs'")}) == []
    assert iam.unused(grants, {("F", 0, "s3:PutObject", "'inputs'"), ("F", 0, "s3:GetObject", "'inputs'")}) == [
        "F statement 0: 'results' is granted but never used"
    ]


def policy(template: Template, function_id: str) -> list[iam.Statement]:
    attributes = {**ATTRIBUTES, "CursorSecret": {"Ref": "arn:secret"}, "IdempotencyTable": {"Arn": "arn:idem"}}
    return iam.statements(
        template, function_id, Intrinsics("us-east-1", "t", template.parameter_defaults(), attributes)
    )


def allowed(statements: list[iam.Statement], action: str, resource: str, **conditions: str) -> bool:
    request = iam.Request(action, resource, tuple(conditions.items()))
    return any(statement.allows(request) for statement in statements)


INPUT = "arn:aws:s3:::jobs-bucket/inputs/org_1/job_1"
RESULT = "arn:aws:s3:::jobs-bucket/results/org_1/job_1.csv"


@pytest.mark.parametrize(
    ("function_id", "action", "resource", "expected"),
    [
        ("JobsFunction", "s3:PutObject", INPUT, True),  # inline rows, and the presigned upload
        ("JobsFunction", "s3:GetObject", RESULT, True),  # the presigned result_url
        ("JobsFunction", "s3:GetObject", INPUT, False),  # another tenant's uploaded passwords
        ("JobsFunction", "s3:PutObject", RESULT, False),
        ("JobPlannerFunction", "s3:GetObject", INPUT, True),
        ("JobPlannerFunction", "s3:PutObject", INPUT, False),
        ("JobWorkerFunction", "s3:GetObject", INPUT, True),  # its chunk's bytes
        ("JobWorkerFunction", "s3:PutObject", RESULT, True),  # the export
        ("JobWorkerFunction", "s3:AbortMultipartUpload", RESULT, False),  # nothing aborts: the lifecycle does
        ("JobWorkerFunction", "s3:PutObject", INPUT, False),
        ("JobWorkerFunction", "s3:GetObject", RESULT, False),
    ],
)
def test_the_job_functions_reach_only_their_prefixes(
    template: Template, function_id: str, action: str, resource: str, expected: bool
) -> None:
    assert allowed(policy(template, function_id), action, resource) is expected


@pytest.mark.parametrize("function_id", ["UsersFunction", "JobWorkerFunction"])
def test_functions_that_send_email_send_only_from_the_configured_sender(template: Template, function_id: str) -> None:
    sender = template.parameter_defaults()["MailFrom"]
    statements = policy(template, function_id)
    assert allowed(statements, "ses:SendRawEmail", "*", **{"ses:FromAddress": sender})
    assert not allowed(statements, "ses:SendRawEmail", "*", **{"ses:FromAddress": "ceo@example.com"})


def test_a_setting_read_without_its_variable_is_reported(template: Template) -> None:
    required = {"jobs_bucket": "JOBS_BUCKET", "cursor_secret": "CURSOR_SECRET"}
    reads = {("JobsFunction", "jobs_bucket"), ("UsersFunction", "jobs_bucket"), ("UsersFunction", "cursor_secret")}
    assert iam.unset_settings(template, reads, required) == [
        "UsersFunction reads JOBS_BUCKET, which its Environment in template.yaml lacks"
    ]
