"""One row of a job, through the synchronous endpoint's own service (docs/api.md §10): the same
validation, defaults, uniqueness, last-admin rule, emails, events and audit entries. The
row's exactly-once condition rides in the service's own transaction: the service is handed the
row's unit of work (``db.RowGuard``) and passes it to its repository."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import ValidationError as PydanticValidationError

from umapi import db
from umapi.access.permissions import PERMISSIONS, PLATFORM_ADMIN
from umapi.access.principal import Principal
from umapi.audit import RequestMeta
from umapi.errors import (
    DomainError,
    ErrorDetail,
    ServiceUnavailableError,
    ValidationError,
    details_from_pydantic,
    row_error_body,
)
from umapi.jobs.chunks import ChunkRepository
from umapi.jobs.entities import Job
from umapi.jobs.inputs import RowError
from umapi.jobs.ports import AssignmentRows, ClientLookup, SessionFamilies, UserLookup, UserRows
from umapi.observability import logger
from umapi.roles.catalog import RoleCatalog
from umapi.text import safe, safe_text
from umapi.time import utc_now_iso
from umapi.users.assignment_models import AssignRoleRequest
from umapi.users.holdings import user_permissions
from umapi.users.models import CreateUserRequest, UpdateUserRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TRANSIENT_ATTEMPTS = 4


def principal_of(job: Job, permissions: frozenset[str]) -> Principal:
    """The job's creator as its rows act: ``permissions`` is what they hold now (see ``narrowed``)."""
    actor = job.actor
    return Principal(
        subject=actor.subject,
        client_id=actor.client_id,
        home_org_id=actor.home_org_id,
        org_id=job.org_id,
        permissions=permissions,
        token_id=f"job:{job.id}",
    )


def narrowed(
    job: Job, clients: ClientLookup, users: UserLookup, catalog: RoleCatalog, sessions: SessionFamilies
) -> frozenset[str]:
    """What the job's creator held when creating it and still holds now, in the session it was
    created in (docs/api.md §10): a deleted client, a removed scope, a suspended user, a lost role,
    a password change (any end of the user's sessions) or a revoked refresh family stops the
    rows that need it."""
    actor = job.actor
    client = clients.get(actor.client_id, consistent=True)
    if client is None or client.org_id != actor.home_org_id:
        return frozenset()
    if actor.session_id is not None:
        family = sessions.get_family(actor.session_id)
        if family is None or family.revoked:
            return frozenset()
    held = frozenset(client.scopes)
    if PLATFORM_ADMIN in held:
        held |= frozenset(PERMISSIONS)
    if actor.subject.startswith("usr_"):
        user = users.get(actor.home_org_id, actor.subject, consistent=True)
        if user is None or user.status != "active":
            return frozenset()
        if actor.session_version is not None and user.session_version != actor.session_version:
            return frozenset()
        held &= frozenset(user_permissions(user, catalog, utc_now_iso()))
    return actor.permissions & held


class RowRunner:
    """Applies rows of a job, each exactly once."""

    def __init__(
        self, chunks: ChunkRepository, dynamodb: DynamoDBClient, users: UserRows, assignments: AssignmentRows
    ) -> None:
        self._chunks = chunks
        self._dynamodb = dynamodb
        self._users = users
        self._assignments = assignments

    def apply(self, job: Job, principal: Principal, number: int, position: int, index: int, row: Any) -> bool:
        """Row ``index`` (``position`` in chunk ``number``), already parsed or a ``RowError``:
        ``True`` if it succeeded, ``False`` if it failed (its error recorded). Raises
        ``db.RowFencedError`` if the row was applied already or the job stopped; transient
        database errors are retried, then propagate (the message comes back)."""
        for attempt in range(TRANSIENT_ATTEMPTS):
            try:
                return self._once(job, principal, number, position, index, row)
            except ServiceUnavailableError:
                if attempt == TRANSIENT_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def _once(self, job: Job, principal: Principal, number: int, position: int, index: int, row: Any) -> bool:
        meta = RequestMeta(job.actor.request_id, job.actor.ip, job.actor.user_agent, job_id=job.id)
        try:
            if isinstance(row, RowError):
                raise ValidationError(str(row), details=[ErrorDetail("row", str(row), "invalid_row")])
            guard = db.RowGuard(self._chunks.row_guard(job, number, position, ok=True))
            self._run(job, principal, meta, row, guard)
            # A change that changed nothing still moves the chunk on, once.
            if not guard.written and db.transact_failures(self._dynamodb, guard.items):
                raise db.RowFencedError("the row was applied already, or its job stopped")
            return True
        except PydanticValidationError as exc:
            error: DomainError = ValidationError("The row is not valid.", details=details_from_pydantic(exc.errors()))
        except ServiceUnavailableError:
            raise
        except DomainError as refusal:
            error = refusal
        except ClientError as exc:
            if not _unstorable(exc):
                raise
            error = ValidationError("The row cannot be stored (a value is too large or malformed).")
        except (ValueError, TypeError, RecursionError) as exc:  # hostile input past every check
            logger.warning("job row refused", extra={"job_id": job.id, "index": index, "error": type(exc).__name__})
            error = ValidationError("The row cannot be read as a valid row.")
        items = [
            *self._chunks.row_guard(job, number, position, ok=False),
            self._chunks.error_put(job, index, _row_id(job, row), _plain(row_error_body(error))),
        ]
        if db.transact_failures(self._dynamodb, items):
            raise db.RowFencedError("the row was applied already, or its job stopped")
        return False

    def _run(self, job: Job, principal: Principal, meta: RequestMeta, row: dict[str, Any], guard: db.RowGuard) -> None:
        if job.type == "bulk_user_create":
            self._users.create(principal, CreateUserRequest.model_validate(row), meta, job.verify_url, guard)
        elif job.type == "bulk_user_update":
            user_id = row.get("id")
            if not isinstance(user_id, str) or not user_id:
                raise ValidationError("The row names no user.", details=[ErrorDetail("id", "Required.", "missing")])
            patch = UpdateUserRequest.model_validate({k: v for k, v in row.items() if k != "id"})
            self._users.update(principal, user_id, patch, None, meta, job.verify_url, guard)
        elif job.type == "bulk_role_assignment":
            user_id = row.get("user_id")
            if not isinstance(user_id, str) or not user_id:
                raise ValidationError(
                    "The row names no user.", details=[ErrorDetail("user_id", "Required.", "missing")]
                )
            params = job.params
            if params["action"] == "assign":
                request = AssignRoleRequest.model_validate(
                    {"role_id": params["role_id"], "expires_at": params.get("expires_at")}
                )
                self._assignments.assign(principal, user_id, request, meta, guard)
            else:
                self._assignments.remove(principal, user_id, params["role_id"], meta, guard)
        else:
            raise AssertionError(f"{job.type} has no rows")


def _row_id(job: Job, row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    value = row.get("user_id" if job.type == "bulk_role_assignment" else "id")
    return safe_text(value, 64) if isinstance(value, str) else None


def _plain(body: dict[str, Any]) -> dict[str, Any]:
    """The row's error as stored: no request id (a row has none of its own), and every text
    rendered safely (a hostile value is escaped and cut, never stored as it came)."""
    error = dict(body)
    error.pop("request_id", None)
    return dict(safe(error))


def _unstorable(exc: ClientError) -> bool:
    """DynamoDB refused the row's values themselves (too large, a key too long), not the moment."""
    if db.error_code(exc) == "ValidationException":
        return True
    return db.error_code(exc) == "TransactionCanceledException" and "ValidationError" in db.cancellation_codes(exc)
