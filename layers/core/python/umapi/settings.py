"""Settings, read from the environment the first time they are needed (never at import)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

ONE_MIB = 1024 * 1024


class Settings(BaseModel):
    """Everything a function may be configured with. Names are the environment variables."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(validation_alias="TABLE_NAME", min_length=1)
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    max_body_bytes: int = Field(default=ONE_MIB, validation_alias="MAX_BODY_BYTES", gt=0)
    # Issuer (and audience) of access tokens; empty means the URL the request came in on.
    issuer: str | None = Field(default=None, validation_alias="ISSUER")
    signing_keys_secret: str = Field(default="", validation_alias="SIGNING_KEYS_SECRET")
    cursor_secret: str = Field(default="", validation_alias="CURSOR_SECRET")
    rate_limit_per_minute: int = Field(default=500, validation_alias="RATE_LIMIT_PER_MINUTE", ge=1)
    access_token_ttl_seconds: int = Field(default=3600, validation_alias="ACCESS_TOKEN_TTL_SECONDS", ge=60)
    refresh_reuse_grace_seconds: int = Field(default=0, validation_alias="REFRESH_REUSE_GRACE_SECONDS", ge=0, le=300)
    idempotency_table: str = Field(default="", validation_alias="IDEMPOTENCY_TABLE")
    mail_from: str = Field(default="no-reply@example.com", validation_alias="MAIL_FROM")
    # Where verification links point (your app's page); empty means <API root>/verify-email.
    verification_url: str | None = Field(default=None, validation_alias="VERIFICATION_URL")

    webhook_queue_url: str = Field(default="", validation_alias="WEBHOOK_QUEUE_URL")
    webhook_dlq_url: str = Field(default="", validation_alias="WEBHOOK_DLQ_URL")
    # Seconds before each attempt: 7 attempts, the first at once (docs/api.md §7).
    webhook_retry_delays: tuple[int, ...] = Field(
        default=(0, 30, 300, 1800, 7200, 28800, 86400), validation_alias="WEBHOOK_RETRY_DELAYS", min_length=1
    )
    # Only local runtimes let webhooks reach 127.0.0.1, localhost and ::1.
    webhook_allow_loopback: bool = Field(default=False, validation_alias="WEBHOOK_ALLOW_LOOPBACK")
    # Jobs (docs/api.md §10): the bucket of uploads and results, and the queue the job worker reads.
    jobs_bucket: str = Field(default="", validation_alias="JOBS_BUCKET")
    job_queue_url: str = Field(default="", validation_alias="JOB_QUEUE_URL")
    job_dlq_url: str = Field(default="", validation_alias="JOB_DLQ_URL")
    # SSO connections' client secrets: <prefix>/<connection id> in Secrets Manager (docs/api.md §12).
    sso_secret_prefix: str = Field(default="", validation_alias="SSO_SECRET_PREFIX")
    webhook_timeout_seconds: float = Field(default=30.0, validation_alias="WEBHOOK_TIMEOUT_SECONDS", gt=0, le=30)

    @field_validator("webhook_retry_delays", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                delays = tuple(int(part) for part in value.split(",") if part.strip())
            except ValueError:
                raise ValueError("must be comma-separated whole seconds, e.g. 0,30,300") from None
            if any(delay < 0 for delay in delays):
                raise ValueError("delays cannot be negative")
            return delays
        return value

    @field_validator("aws_endpoint_url", "issuer", "verification_url")
    @classmethod
    def _empty_means_unset(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None


@cache
def get_settings() -> Settings:
    """The process's settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    environ = dict(os.environ)
    environ.setdefault("AWS_REGION", environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    return Settings.model_validate(environ)


class Retention(BaseModel):
    """How long audit entries and webhook events are kept (DynamoDB TTL). Apart from
    ``Settings``: every writer needs it, including code that runs before a table is configured
    (the local runtime's bootstrap)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    audit_days: int = Field(default=365, validation_alias="AUDIT_RETENTION_DAYS", ge=1, le=3650)
    event_days: int = Field(default=35, validation_alias="EVENT_RETENTION_DAYS", ge=1, le=3650)


def get_retention() -> Retention:
    """Read on every call (a few microseconds): nothing to clear when the environment changes."""
    return Retention.model_validate(os.environ)
