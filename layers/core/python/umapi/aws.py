"""Cached boto3 clients, one per service, endpoint and region: a process keeps them for its
lifetime, and settings that point elsewhere (tests, the local runtime) get clients of their own.
Repositories take these in their constructors; tests pass their own."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config

from umapi.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
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


@cache
def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, region_name=region, config=_CLIENT_CONFIG
    )


def _configured(service: str) -> Any:
    settings = get_settings()  # cached itself: cheap on every call
    return _client(service, settings.aws_endpoint_url, settings.aws_region)


def dynamodb_client() -> DynamoDBClient:
    return cast("DynamoDBClient", _configured("dynamodb"))


def secretsmanager_client() -> SecretsManagerClient:
    return cast("SecretsManagerClient", _configured("secretsmanager"))


def ses_client() -> SESClient:
    return cast("SESClient", _configured("ses"))


def sqs_client() -> SQSClient:
    return cast("SQSClient", _configured("sqs"))


def s3_client() -> S3Client:
    """S3 with SigV4 presigning and path-style addresses when an endpoint is set (moto's server
    locally: presigned URLs must name the server a developer's ``curl`` reaches)."""
    settings = get_settings()
    return cast("S3Client", _s3(settings.aws_endpoint_url, settings.aws_region))


@cache
def _s3(endpoint_url: str | None, region: str | None) -> Any:
    config = _CLIENT_CONFIG.merge(
        Config(signature_version="s3v4", s3={"addressing_style": "path"} if endpoint_url else None)
    )
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
