"""moto in-process set up the way a deployed stack is: the template's resources, then bootstrap."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import pytest

from devserver.backend import Provisioner
from devserver.template import Intrinsics, Template
from umapi import services
from umapi.auth.signing import KeyRingStore, SigningKey
from umapi.bootstrap import AdminCredentials, create_platform_admin
from umapi.clients.repository import ClientRepository
from umapi.orgs.repository import OrgRepository
from umapi.settings import get_settings

REGION = "us-east-1"
MAIL_FROM = "no-reply@example.com"


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@cache
def _session() -> boto3.session.Session:
    """One session for every test's provisioning: its clients share the service models it loaded."""
    return boto3.session.Session(region_name=REGION)


def provision(template: Template) -> dict[str, dict[str, Any]]:
    """template.yaml's tables, queues and secrets in the active moto mock; their Ref/GetAtt values."""
    intrinsics = Intrinsics(REGION, "tests", template.parameter_defaults())
    Provisioner(_session().client).provision(template, intrinsics)
    return intrinsics.attributes


@cache
def _signing_key() -> SigningKey:
    """One RSA key for the whole session: generating 2048-bit keys is most of a test's set-up."""
    return SigningKey.generate()


def seed_platform(attributes: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> AdminCredentials:
    """What the bootstrap command leaves behind: a signing key and a platform-admin client."""
    monkeypatch.setenv("SIGNING_KEYS_SECRET", attributes["SigningKeysSecret"]["Ref"])
    monkeypatch.setenv("CURSOR_SECRET", attributes["CursorSecret"]["Ref"])
    monkeypatch.setenv("IDEMPOTENCY_TABLE", attributes["IdempotencyTable"]["Ref"])
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", attributes["WebhookDeliveryQueue"]["Ref"])
    monkeypatch.setenv("WEBHOOK_DLQ_URL", attributes["WebhookDeliveryDLQ"]["Ref"])
    monkeypatch.setenv("JOBS_BUCKET", attributes["JobsBucket"]["Ref"])
    monkeypatch.setenv("JOB_QUEUE_URL", attributes["JobQueue"]["Ref"])
    monkeypatch.setenv("JOB_DLQ_URL", attributes["JobDLQ"]["Ref"])
    monkeypatch.setenv("SSO_SECRET_PREFIX", "tests/sso")  # the template's ${AWS::StackName}/sso
    get_settings.cache_clear()
    services.reset()
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=MAIL_FROM)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    store = KeyRingStore(secrets, attributes["SigningKeysSecret"]["Ref"], dynamodb, "Table")
    ring = [_signing_key()]
    secrets.put_secret_value(
        SecretId=attributes["SigningKeysSecret"]["Ref"],
        SecretString=json.dumps({"keys": [k.to_stored() for k in ring]}),
    )
    store.publish(ring)  # the public half, as the bootstrap command leaves it
    return create_platform_admin(OrgRepository(dynamodb, "Table"), ClientRepository(dynamodb, "Table"))
