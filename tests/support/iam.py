"""Least privilege, checked by the tests themselves: every AWS call a function's handler makes in
any test is matched against that function's ``Policies`` in template.yaml, as IAM would, and a
grant that no call of the whole run used is reported (a run of every test fails on it). In the
same way, every setting a function's code reads that has no usable default (a table, a secret,
a bucket, a queue: ``""`` until set) must be in that function's ``Environment``
(``unset_settings``), so a function deployed without one cannot fail on its first request.

How a call becomes IAM requests (``requests_of``): DynamoDB transactions ask for each item's own
action (``PutItem``, ``UpdateItem``, ``DeleteItem``, ``ConditionCheckItem``) on its table; a
``Query`` on an index asks on ``<table>/index/<name>``; S3 multipart steps are ``s3:PutObject``;
a presigned URL is a request the function's role signs, so it is recorded when it is made;
``ses:FromAddress`` is the condition key of SES sends.
"""

from __future__ import annotations

import contextvars
import fnmatch
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from devserver.template import ACCOUNT_ID, Intrinsics, Template

# The function whose handler is running (set by ``acting_as``), and the calls it was refused.
_function: ContextVar[str | None] = ContextVar("iam_function", default=None)


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    conditions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Statement:
    index: int
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str], ...] = ()  # StringEquals only

    def allows(self, request: Request) -> tuple[str, str] | None:
        """``(action, resource pattern)`` of this statement that allow ``request``, or ``None``."""
        action = next((a for a in self.actions if fnmatch.fnmatchcase(request.action, a)), None)
        resource = next((r for r in self.resources if fnmatch.fnmatchcase(request.resource, r)), None)
        if action is None or resource is None:
            return None
        given = dict(request.conditions)
        if any(given.get(key) != value for key, value in self.conditions):
            return None
        return action, resource


@dataclass(frozen=True)
class RawStatement:
    """An ``Allow`` statement of a function's inline policies, as template.yaml writes it."""

    actions: list[str]
    resources: list[Any]  # intrinsics unresolved
    condition: dict[str, Any]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def raw_statements(template: Template, function_id: str) -> list[RawStatement]:
    """The function's ``Allow`` statements in order; a statement's index is its position here."""
    props = template.resources[function_id]["Properties"]
    return [
        RawStatement(_listed(raw["Action"]), _listed(raw["Resource"]), raw.get("Condition", {}))
        for policy in props.get("Policies", [])
        if isinstance(policy, dict)
        for raw in policy.get("Statement", [])
        if raw.get("Effect") == "Allow"
    ]


def statements(template: Template, function_id: str, intrinsics: Intrinsics) -> list[Statement]:
    """The function's ``Allow`` statements with every intrinsic resolved."""
    return [
        Statement(
            index,
            tuple(raw.actions),
            tuple(str(intrinsics.resolve(resource)) for resource in raw.resources),
            tuple(
                (key, str(intrinsics.resolve(value)))
                for key, value in (raw.condition.get("StringEquals") or {}).items()
            ),
        )
        for index, raw in enumerate(raw_statements(template, function_id))
    ]


def _by_ref(attributes: dict[str, dict[str, Any]], value: str) -> dict[str, Any]:
    """The resource whose Ref (a name, URL or ARN) is ``value``."""
    for resource in attributes.values():
        if value in (resource.get("Ref"), resource.get("Arn"), resource.get("QueueUrl")):
            return resource
    raise KeyError(f"no resource of the template is {value}")


def _table(attributes: dict[str, dict[str, Any]], name: str) -> str:
    return str(_by_ref(attributes, name)["Arn"])


_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_S3_ACTIONS = {
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "HeadObject": "GetObject",
    "ListParts": "ListMultipartUploadParts",
}
_SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}


def requests_of(
    service: str, operation: str, params: dict[str, Any], attributes: dict[str, Any], region: str = "us-east-1"
) -> list[Request]:
    """The IAM requests one API call makes."""
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            found: list[Request] = []
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                action = "GetItem" if kind == "Get" else _TRANSACT_ACTIONS[kind]
                found.append(Request(f"dynamodb:{action}", _table(attributes, body["TableName"])))
            return found
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [Request(f"dynamodb:{operation}", _table(attributes, name)) for name in params["RequestItems"]]
        resource = _table(attributes, params["TableName"])
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [Request(f"dynamodb:{operation}", resource)]
    if service == "s3":
        action = _S3_ACTIONS.get(operation, operation)
        return [Request(f"s3:{action}", f"arn:aws:s3:::{params['Bucket']}/{params.get('Key', '')}")]
    if service == "sqs":
        action = _SQS_ACTIONS.get(operation, operation)
        return [Request(f"sqs:{action}", str(_by_ref(attributes, params["QueueUrl"])["Arn"]))]
    if service == "secretsmanager":
        secret = str(params.get("SecretId") or params.get("Name"))
        try:
            return [Request(f"secretsmanager:{operation}", str(_by_ref(attributes, secret)["Ref"]))]
        except KeyError:  # a secret the code names itself (an SSO connection's): its ARN, as IAM sees it
            arn = (
                secret
                if secret.startswith("arn:")
                else f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{secret}-AbCdEf"
            )
            return [Request(f"secretsmanager:{operation}", arn)]
    if service in ("ses", "email"):
        source = str(params.get("Source") or params.get("FromArn") or "")
        return [Request(f"ses:{operation}", "*", (("ses:FromAddress", source),))]
    return [Request(f"{service}:{operation}", "*")]


@dataclass
class Recorder:
    """Checks each call made inside a handler, and notes which grants were used."""

    template: Template
    region: str
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    used: set[tuple[str, int, str, str]] = field(default_factory=set)  # function, statement, action, resource
    _policies: dict[str, list[Statement]] = field(default_factory=dict)

    def provisioned(self, attributes: dict[str, dict[str, Any]]) -> None:
        """A test's moto resources (their physical names and ARNs)."""
        self.attributes = attributes
        self._policies = {}

    def policies(self, function_id: str) -> list[Statement]:
        if function_id not in self._policies:
            intrinsics = Intrinsics(self.region, "tests", self.template.parameter_defaults(), self.attributes)
            self._policies[function_id] = statements(self.template, function_id, intrinsics)
        return self._policies[function_id]

    def call(self, service: str, operation: str, params: dict[str, Any]) -> None:
        function_id = _function.get()
        if function_id is None or not self.attributes:
            return  # the test's own set-up, not a function
        for request in requests_of(service, operation, params, self.attributes, self.region):
            allowed = [(s.index, *hit) for s in self.policies(function_id) if (hit := s.allows(request))]
            if not allowed:
                self.refused.append(f"{function_id} may not {request.action} on {request.resource}")
            for index, action, resource in allowed:
                self.used.add((function_id, index, action, self._pattern(function_id, index, resource)))

    def _pattern(self, function_id: str, index: int, resolved: str) -> str:
        """The statement's resource as template.yaml writes it (stable across tests' resources)."""
        position = self.policies(function_id)[index].resources.index(resolved)
        return repr(raw_statements(self.template, function_id)[index].resources[position])

    def event_sources(self) -> set[tuple[str, int, str, str]]:
        """The grants Lambda's own pollers use for a function's stream and queue events (the
        handler never makes those calls: the event-source mapping does, with the function's role)."""
        used: set[tuple[str, int, str, str]] = set()
        for function_id, function in self.template.resources_of_type("AWS::Serverless::Function").items():
            raw = raw_statements(self.template, function_id)
            for event in function["Properties"].get("Events", {}).values():
                kind = event.get("Type")
                if kind not in POLLER_ACTIONS:
                    continue
                source = repr(event["Properties"]["Stream" if kind == "DynamoDB" else "Queue"])
                on_failure = event["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                for index, statement in enumerate(raw):
                    for action in set(statement.actions) & POLLER_ACTIONS[kind]:
                        used.add((function_id, index, action, source))
                    if on_failure is not None and "sqs:SendMessage" in statement.actions:  # a failed batch's record
                        used.add((function_id, index, "sqs:SendMessage", repr(on_failure)))
        return used

    def grants(self) -> set[tuple[str, int, str, str]]:
        """Every (function, statement, action, resource) the template grants."""
        found: set[tuple[str, int, str, str]] = set()
        for function_id in self.template.resources_of_type("AWS::Serverless::Function"):
            for index, statement in enumerate(raw_statements(self.template, function_id)):
                found.update(
                    (function_id, index, action, repr(resource))
                    for action in statement.actions
                    for resource in statement.resources
                )
        return found


def current_function() -> str | None:
    """The function whose handler is running, if any."""
    return _function.get()


def unset_settings(template: Template, reads: set[tuple[str, str]], required: dict[str, str]) -> list[str]:
    """``(function, field)`` reads of fields with no usable default (``required``: field -> its
    variable) that the function's environment (Globals and its own) does not set."""
    problems = []
    for function_id, name in sorted(reads):
        if name in required and required[name] not in template.function_environment(function_id):
            problems.append(f"{function_id} reads {required[name]}, which its Environment in template.yaml lacks")
    return problems


def unused(grants: set[tuple[str, int, str, str]], used: set[tuple[str, int, str, str]]) -> list[str]:
    """Grants nothing used: an action of a statement that no call used on any of its resources,
    or a resource of a statement that no call touched with any of its actions."""
    problems = []
    statements_of = {(f, i) for f, i, _, _ in grants}
    for function_id, index in sorted(statements_of):
        mine = {(a, r) for f, i, a, r in grants if (f, i) == (function_id, index)}
        hits = {(a, r) for f, i, a, r in used if (f, i) == (function_id, index)}
        for action in sorted({a for a, _ in mine} - {a for a, _ in hits}):
            problems.append(f"{function_id} statement {index}: {action} is granted but never used")
        for resource in sorted({r for _, r in mine} - {r for _, r in hits}):
            problems.append(f"{function_id} statement {index}: {resource} is granted but never used")
    return problems


# What Lambda's event-source mappings call with the function's role.
POLLER_ACTIONS = {
    "DynamoDB": frozenset(
        {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
    ),
    "SQS": frozenset(
        {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
    ),
}


def install_thread_context() -> None:
    """Work a handler hands to a thread pool runs as that handler (its calls are its own)."""
    submit = ThreadPoolExecutor.submit

    def submit_in_context(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign,assignment]


@contextmanager
def acting_as(function_id: str) -> Iterator[None]:
    token = _function.set(function_id)
    try:
        yield
    finally:
        _function.reset(token)


_last_function: list[str | None] = [None]


def wrap_handler(
    function_id: str, handler: Callable[..., Any], new_container: Callable[[], None]
) -> Callable[..., Any]:
    """``handler`` running as ``function_id`` (its calls checked against that function's
    policies). When another function ran last, the process's cached services are dropped
    (``new_container``): in Lambda each function has its own containers, so a secret or table
    one function read and cached is read again by the next, with its own role."""

    def run(event: Any, context: Any) -> Any:
        if _last_function[0] != function_id:
            new_container()
            _last_function[0] = function_id
        with acting_as(function_id):
            return handler(event, context)

    run.__wrapped__ = handler  # type: ignore[attr-defined]
    return run
