"""The envelope's ``error`` object as an API model (docs/api.md §8), for the answers that carry one
inside their own body: a bulk row's result, a job row's error, a failed job's ``error``. Typed,
so generated clients get ``code``, ``message`` and ``details``."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from umapi.api_model import ApiModel


class ErrorDetailObject(ApiModel):
    field: str
    message: str
    code: str


class ErrorObject(ApiModel):
    """The envelope's ``error`` object without a request id of its own, plus the context keys
    that apply (``required_permission``, ``conflicting_field``, ``violations``, ...)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="the error code of docs/api.md §8 (a bulk row's own, e.g. user_not_found)")
    message: str
    details: list[ErrorDetailObject] = Field(default_factory=list)
