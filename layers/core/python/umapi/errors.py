"""Domain errors. They know nothing of HTTP: ``umapi.http`` maps each to a status code.

Every error carries a human message and, where useful, field-level ``details`` and
context (``required_permission``, ``conflicting_field``, ...) that the error
envelope shows to the client. Messages never contain secrets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, NamedTuple


class ErrorDetail(NamedTuple):
    """One problem with one input field."""

    field: str
    message: str
    code: str


class DomainError(Exception):
    """Base of every error the API answers with on purpose."""

    code: ClassVar[str] = "internal_error"
    # The code a row of a bulk request or job gives this error, where it differs from ``code``
    # (``POST /users/bulk/roles``: ``user_not_found`` where ``POST /users/{id}/roles`` is 404).
    row_code: ClassVar[str | None] = None

    def __init__(
        self, message: str, details: Iterable[ErrorDetail] = (), context: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        self.context = dict(context or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(message={self.message!r}, details={self.details!r}, context={self.context!r})"


class ValidationError(DomainError):
    code = "validation_error"


class UnauthenticatedError(DomainError):
    code = "unauthenticated"


class InvalidTokenError(UnauthenticatedError):
    """A bearer token was sent but is malformed, expired, forged or revoked."""


class ForbiddenError(DomainError):
    code = "forbidden"


class InsufficientScopeError(ForbiddenError):
    """A valid bearer token whose scope does not reach the resource (RFC 6750 §3.1)."""

    def __init__(self, message: str, scope: str) -> None:
        super().__init__(message, context={"required_scope": scope})
        self.scope = scope


class NotFoundError(DomainError):
    code = "not_found"


class MethodNotAllowedError(DomainError):
    code = "method_not_allowed"


class ConflictError(DomainError):
    code = "conflict"


class GoneError(DomainError):
    code = "gone"


class PreconditionFailedError(DomainError):
    code = "precondition_failed"


class PayloadTooLargeError(DomainError):
    code = "payload_too_large"


class UnsupportedMediaTypeError(DomainError):
    code = "unsupported_media_type"


class DataConsistencyError(DomainError):
    code = "data_consistency_violation"


class UserSuspendedError(DomainError):
    code = "user_suspended"


class IdempotencyKeyReusedError(DomainError):
    code = "idempotency_key_reused"


class RateLimitedError(DomainError):
    code: ClassVar[str] = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 1, context: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, context=context)
        self.retry_after = retry_after


class ServiceUnavailableError(DomainError):
    """A backend is throttling or unreachable; the client should retry."""

    code: ClassVar[str] = "service_unavailable"

    def __init__(self, message: str, *, retry_after: int = 1, context: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, context=context)
        self.retry_after = retry_after


class RetryLaterError(Exception):
    """Work a queue message cannot do now but a later receive can (another copy holds it, a
    fence moved): the message fails and comes back (``umapi.consumers``)."""


class OAuthError(Exception):
    """An RFC 6749 §5.2 error of the token endpoint: ``{"error", "error_description"}``, not the envelope."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def details_from_pydantic(problems: Iterable[Mapping[str, Any]]) -> list[ErrorDetail]:
    """Field-level details from pydantic's (or Powertools') validation errors."""
    details = []
    for problem in problems:
        if problem.get("type") == "json_invalid":
            details.append(ErrorDetail("body", "The request body is not valid JSON.", "json_invalid"))
            continue
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path")]
        details.append(
            ErrorDetail(
                field=".".join(location) or "body",
                message=str(problem.get("msg", "Invalid value.")),
                code=str(problem.get("type", "invalid")),
            )
        )
    return details


def row_error_body(error: DomainError) -> dict[str, Any]:
    """A bulk row's ``error`` object (docs/api.md §5, §10): the envelope's, with the row's code. The
    bulk endpoints and the jobs standing for them both answer with it."""
    return {**error_body(error), "code": error.row_code or error.code}


def error_body(error: DomainError) -> dict[str, Any]:
    """The envelope's ``error`` object for ``error`` (``umapi.http`` adds the request id)."""
    return {
        "code": error.code,
        "message": error.message,
        "details": [{"field": d.field, "message": d.message, "code": d.code} for d in error.details],
        **error.context,
    }
