"""One row of a job, through the synchronous endpoint's own service (contract §10): the same
validation, defaults, uniqueness, last-admin rule, emails, events and audit entries. The
row's exactly-once condition rides in the service's own transaction (``db.guarding``)."""

from __future__ import annotations

import time
from typing import Any

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
    error_body,
)
from umapi.jobs.entities import Job
from umapi.jobs.inputs import RowError
from umapi.jobs.repository import JobRepository
from umapi.roles.catalog import user_permissions
from umapi.roles.models import AssignRoleRequest
from umapi.time import utc_now_iso
from umapi.users.models import CreateUserRequest, UpdateUserRequest

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


def narrowed(job: Job, clients: Any, users: Any, catalog: Any) -> frozenset[str]:
    """What the job's creator held when creating it and still holds now: a deleted client, a
    removed scope, a suspended user or a lost role stops the rows that need it."""
    actor = job.actor
    client = clients.get(actor.client_id, consistent=True)
    if client is None or client.org_id != actor.home_org_id:
        return frozenset()
    held = frozenset(client.scopes)
    if PLATFORM_ADMIN in held:
        held |= frozenset(PERMISSIONS)
    if actor.subject.startswith("usr_"):
        user = users.get(actor.home_org_id, actor.subject, consistent=True)
        if user is None or user.status != "active":
            return frozenset()
        held &= frozenset(user_permissions(user, catalog, utc_now_iso()))
    return actor.permissions & held


class RowRunner:
    """Applies rows of a job, each exactly once."""

    def __init__(self, jobs: JobRepository, dynamodb: Any, users: Any, assignments: Any) -> None:
        self._jobs = jobs
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
        row_id = _row_id(job, row)
        try:
            if isinstance(row, RowError):
                raise ValidationError(str(row), details=[ErrorDetail("row", str(row), "invalid_row")])
            with db.guarding(self._jobs.row_guard(job, number, position, ok=True)) as guard:
                self._run(job, principal, meta, row)
            # A change that changed nothing still moves the chunk on, once.
            if not guard.written and db.transact_failures(self._dynamodb, guard.items):
                raise db.RowFencedError("the row was applied already, or its job stopped")
            return True
        except PydanticValidationError as exc:
            body = error_body(ValidationError("The row is not valid.", details=details_from_pydantic(exc.errors())))
        except ServiceUnavailableError:
            raise
        except DomainError as error:
            body = error_body(error)
        items = [
            *self._jobs.row_guard(job, number, position, ok=False),
            self._jobs.error_put(job, index, row_id, _plain(body)),
        ]
        if db.transact_failures(self._dynamodb, items):
            raise db.RowFencedError("the row was applied already, or its job stopped")
        return False

    def _run(self, job: Job, principal: Principal, meta: RequestMeta, row: dict[str, Any]) -> None:
        if job.type == "bulk_user_create":
            self._users.create(principal, CreateUserRequest.model_validate(row), meta, job.verify_url)
        elif job.type == "bulk_user_update":
            user_id = row.get("id")
            if not isinstance(user_id, str) or not user_id:
                raise ValidationError("The row names no user.", details=[ErrorDetail("id", "Required.", "missing")])
            patch = UpdateUserRequest.model_validate({k: v for k, v in row.items() if k != "id"})
            self._users.update(principal, user_id, patch, None, meta, job.verify_url)
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
                self._assignments.assign(principal, user_id, request, meta)
            else:
                self._assignments.remove(principal, user_id, params["role_id"], meta)
        else:
            raise AssertionError(f"{job.type} has no rows")


def _row_id(job: Job, row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    value = row.get("user_id" if job.type == "bulk_role_assignment" else "id")
    return value if isinstance(value, str) and len(value) <= 64 else None


def _plain(body: dict[str, Any]) -> dict[str, Any]:
    """The error of the envelope, without the request id (a row has none of its own)."""
    error = dict(body.get("error", body))
    error.pop("request_id", None)
    return error
