"""What ``POST /jobs`` accepts and what the job routes answer (docs/api.md §10).

``data`` is checked against its type's model here, as a whole (a job with a malformed
``data`` is refused at once); each row is checked by the synchronous endpoint's own model
when the worker reaches it, so one bad row never blocks the others.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag

from umapi.api_model import ApiModel
from umapi.error_models import ErrorObject
from umapi.fields import Url
from umapi.jobs.entities import MAX_ROWS
from umapi.roles.fields import ExpiresAt, RoleRef
from umapi.time import parse_rfc3339
from umapi.users.models import Department

if TYPE_CHECKING:
    from umapi.jobs.entities import Job

JobType = Literal["bulk_user_create", "bulk_user_update", "bulk_role_assignment", "user_export"]
JobStatus = Literal["awaiting_upload", "queued", "processing", "completed", "failed", "cancelled", "expired"]
Row = dict[str, Any]


class UploadRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    content_type: Literal["application/x-ndjson", "text/csv"]


class BulkCreateData(ApiModel):
    model_config = ConfigDict(extra="forbid")

    users: Annotated[list[Row], Field(min_length=1, max_length=MAX_ROWS)]


class BulkUpdateData(ApiModel):
    model_config = ConfigDict(extra="forbid")

    updates: Annotated[list[Row], Field(min_length=1, max_length=MAX_ROWS)]


class RoleAssignmentData(ApiModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=MAX_ROWS)]
    role_id: RoleRef
    action: Literal["assign", "remove"]
    expires_at: ExpiresAt | None = None


class RoleAssignmentUploadData(ApiModel):
    """``data`` beside an upload: the role and action; the file names the users."""

    model_config = ConfigDict(extra="forbid")

    role_id: RoleRef
    action: Literal["assign", "remove"]
    expires_at: ExpiresAt | None = None


class ExportData(ApiModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["pending_verification", "active", "suspended", "archived"] | None = None
    role: Annotated[str | None, Field(max_length=64)] = None
    department: Department | None = None
    format: Literal["jsonl", "csv"] = "jsonl"


class _Job(ApiModel):
    model_config = ConfigDict(extra="forbid")

    callback_url: Annotated[
        Url | None, Field(description="https; gets one signed POST of the job when it finishes (§7's rules)")
    ] = None


class BulkCreateJob(_Job):
    type: Literal["bulk_user_create"]
    data: BulkCreateData


class BulkCreateUploadJob(_Job):
    type: Literal["bulk_user_create"]
    upload: UploadRequest


class BulkUpdateJob(_Job):
    type: Literal["bulk_user_update"]
    data: BulkUpdateData


class BulkUpdateUploadJob(_Job):
    type: Literal["bulk_user_update"]
    upload: UploadRequest


class RoleAssignmentJob(_Job):
    type: Literal["bulk_role_assignment"]
    data: RoleAssignmentData


class RoleAssignmentUploadJob(_Job):
    """The file's rows name ``user_id``; ``data`` names the role and the action."""

    type: Literal["bulk_role_assignment"]
    data: RoleAssignmentUploadData
    upload: UploadRequest


class ExportJob(_Job):
    type: Literal["user_export"]
    data: ExportData | None = None


# One shape per type and input: ``data`` inline (within the 1 MiB body limit), or ``upload``
# for a file of up to 1,000,000 rows or 100 MiB (the answer carries a presigned PUT).
def _shape(value: Any) -> str:
    """Which shape a body claims: its type, and whether it brings an upload."""
    if isinstance(value, dict):
        return f"{value.get('type')}:{'upload' if 'upload' in value else 'inline'}"
    return f"{getattr(value, 'type', None)}:{'upload' if hasattr(value, 'upload') else 'inline'}"


CreateJobRequest = Annotated[
    Annotated[BulkCreateJob, Tag("bulk_user_create:inline")]
    | Annotated[BulkCreateUploadJob, Tag("bulk_user_create:upload")]
    | Annotated[BulkUpdateJob, Tag("bulk_user_update:inline")]
    | Annotated[BulkUpdateUploadJob, Tag("bulk_user_update:upload")]
    | Annotated[RoleAssignmentJob, Tag("bulk_role_assignment:inline")]
    | Annotated[RoleAssignmentUploadJob, Tag("bulk_role_assignment:upload")]
    | Annotated[ExportJob, Tag("user_export:inline")],
    Discriminator(
        _shape,
        custom_error_type="invalid_job",
        custom_error_message="type must be bulk_user_create, bulk_user_update, bulk_role_assignment or "
        "user_export (an export takes no upload)",
    ),
]


class JobResponse(ApiModel):
    id: str
    type: JobType
    status: JobStatus
    progress: Annotated[int, Field(ge=0, le=100)]
    total: int | None
    processed: int
    successful: int
    failed: int
    eta_seconds: int | None
    created_at: str
    started_at: str | None
    completed_at: str | None
    callback_url: str | None
    result_url: str | None
    error: ErrorObject | None = Field(default=None, description="why a failed job could not run (status failed only)")

    @classmethod
    def of(cls, job: Job, now: float | None = None, result_url: str | None = None) -> JobResponse:
        """``job`` with its progress and, while it runs, an estimate of the seconds left (from
        its rate so far); ``error`` is set only for a failed job."""
        now = time.time() if now is None else now
        total = job.total
        progress = min(100, job.processed * 100 // total) if total else 0
        if job.status == "completed":
            progress = 100
        eta = None
        if job.status == "processing" and total and job.started_at and 0 < job.processed < total:
            elapsed = max(now - parse_rfc3339(job.started_at).timestamp(), 0.001)
            eta = math.ceil((total - job.processed) / (job.processed / elapsed))
        view: dict[str, Any] = {
            "id": job.id,
            "type": job.type,
            "status": job.status,
            "progress": progress,
            "total": total,
            "processed": job.processed,
            "successful": job.successful,
            "failed": job.failed,
            "eta_seconds": eta,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "completed_at": job.completed_at,
            "callback_url": job.callback_url,
            "result_url": result_url,
        }
        if job.status == "failed" and job.failure:
            view["error"] = job.failure
        return cls.model_validate(view)


class CreatedJobResponse(JobResponse):
    """The 202 answer: the job, and what is shown only once."""

    upload_url: str | None = Field(default=None, description="presigned S3 PUT, valid 15 minutes")
    callback_secret: str | None = Field(default=None, description="whsec_… signing the callback; shown once")


class JobRowError(ApiModel):
    index: int
    id: str | None = None
    error: ErrorObject
