"""Cached boto3 clients. Repositories take these in their constructors; tests pass their own."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config

from umapi.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# Short timeouts: an API request must fail fast (and answer 503) rather than hang
# until the Lambda timeout. "standard" retries back off on throttling.
_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


def _client(service: str) -> Any:
    settings = get_settings()
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region, config=_CLIENT_CONFIG
    )


@cache
def dynamodb_client() -> DynamoDBClient:
    return cast("DynamoDBClient", _client("dynamodb"))


@cache
def secretsmanager_client() -> SecretsManagerClient:
    return cast("SecretsManagerClient", _client("secretsmanager"))


@cache
def ses_client() -> SESClient:
    return cast("SESClient", _client("ses"))


@cache
def sqs_client() -> SQSClient:
    return cast("SQSClient", _client("sqs"))


def reset_clients() -> None:
    """Forget cached clients (after the environment changed, e.g. in tests)."""
    dynamodb_client.cache_clear()
    secretsmanager_client.cache_clear()
    ses_client.cache_clear()
    sqs_client.cache_clear()
