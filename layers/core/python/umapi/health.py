"""Health of the API's backends, for ``GET /health``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import BotoCoreError, ClientError

from umapi.api_model import ApiModel
from umapi.observability import logger
from umapi.table_keys import HEALTH_PROBE_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class CheckResult(ApiModel):
    status: Literal["ok", "unreachable"]
    latency_ms: int


class HealthResponse(ApiModel):
    status: Literal["healthy", "unhealthy"]
    checks: dict[str, CheckResult]


class HealthService:
    """Probes each backend with the cheapest call that proves it answers."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name

    def check(self) -> HealthResponse:
        checks = {"dynamodb": self._probe_dynamodb()}
        healthy = all(check.status == "ok" for check in checks.values())
        return HealthResponse(status="healthy" if healthy else "unhealthy", checks=checks)

    def _probe_dynamodb(self) -> CheckResult:
        started = time.perf_counter()
        try:
            self._dynamodb.get_item(TableName=self._table_name, Key=HEALTH_PROBE_KEY)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("dynamodb health probe failed", extra={"error_type": type(exc).__name__})
            status: Literal["ok", "unreachable"] = "unreachable"
        else:
            status = "ok"
        return CheckResult(status=status, latency_ms=round((time.perf_counter() - started) * 1000))
