"""A job and its rules (docs/api.md §10): types and the permission each needs, statuses, limits."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple

from umapi.audit import RequestMeta
from umapi.events import Event
from umapi.time import utc_now_iso

# The permission each type needs, to create or to cancel the job.
TYPE_PERMISSIONS: Final = {
    "bulk_user_create": "users:create",
    "bulk_user_update": "users:update",
    "bulk_role_assignment": "users:update",
    "user_export": "users:read",
}
JOB_TYPES: Final = tuple(TYPE_PERMISSIONS)
STATUSES: Final = ("awaiting_upload", "queued", "processing", "completed", "failed", "cancelled", "expired")
UNFINISHED: Final = frozenset({"awaiting_upload", "queued", "processing"})

MAX_UNFINISHED: Final = 5  # per organization
MAX_ROWS: Final = 1_000_000
MAX_UPLOAD_BYTES: Final = 100 * 1024 * 1024
UPLOAD_URL_SECONDS: Final = 15 * 60
UPLOAD_WAIT_SECONDS: Final = 24 * 3600  # then an upload that never came leaves the job expired
RESULT_URL_SECONDS: Final = 3600
CHUNK_ROWS: Final = 500  # rows per queue message
CONTENT_TYPES: Final = {"application/x-ndjson": "jsonl", "text/csv": "csv"}


class JobActor(NamedTuple):
    """Who created the job, as the rows act: their permissions then, narrowed again to what
    they still hold whenever a chunk starts (a deleted client's job does nothing more)."""

    subject: str
    client_id: str
    home_org_id: str
    permissions: frozenset[str]
    request_id: str
    ip: str | None = None
    user_agent: str | None = None
    # A user's session the job acts with (docs/api.md §10): its session version and refresh family.
    session_version: int | None = None
    session_id: str | None = None


@dataclass
class Job:
    id: str
    org_id: str
    type: str
    status: str
    created_at: str
    actor: JobActor
    params: dict[str, Any] = field(default_factory=dict)  # role_id/action/expires_at, export filters
    input_format: str = "jsonl"
    input_key: str | None = None
    total: int | None = None
    processed: int = 0
    successful: int = 0
    failed: int = 0
    chunks_total: int | None = None
    chunks_done: int = 0
    columns: list[str] | None = None  # a csv's header
    started_at: str | None = None
    completed_at: str | None = None
    callback_url: str | None = None
    sealed_callback_secret: str | None = None
    result_key: str | None = None
    failure: dict[str, Any] | None = None  # why a failed job could not run
    verify_url: str = ""
    planned: bool = False
    export: dict[str, Any] | None = None  # an export's progress: step, upload id, parts, cursor
    callback: dict[str, Any] | None = None  # the callback's next attempt, lease and attempts
    version: int = 1

    @property
    def unfinished(self) -> bool:
        return self.status in UNFINISHED

    @property
    def permission(self) -> str:
        return TYPE_PERMISSIONS[self.type]

    @property
    def input(self) -> str:
        """The S3 key of the job's rows (every type but an export has one)."""
        if self.input_key is None:
            raise ValueError(f"a {self.type} job has no input")
        return self.input_key


def finished(job: Job, status: str, **values: Any) -> Job:
    """The job as its last transition leaves it (for its event and callback)."""
    return replace(job, status=status, completed_at=utc_now_iso(), **values)


def job_event(job: Job, kind: str, view: dict[str, Any]) -> Event:
    """``job.completed`` / ``job.failed`` with the job as ``data.job``, from the job's creator."""
    meta = RequestMeta(job.actor.request_id, job.actor.ip, job.actor.user_agent, job_id=job.id)
    return Event.new(org_id=job.org_id, type=kind, data={"job": view}, meta=meta, actor_id=job.actor.subject)


class ChunkState(NamedTuple):
    """Where a chunk of rows stands: the ``next`` row (within the chunk), the rows that went
    ``ok`` and ``bad``, what of those it has added to the job's counts, and whether it is ``done``."""

    next: int = 0
    ok: int = 0
    bad: int = 0
    added_ok: int = 0
    added_bad: int = 0
    done: bool = False


class RowError(NamedTuple):
    """Why a job's ``row`` (its index) was not applied (``id``: the user it named, if any)."""

    row: int
    id: str | None
    error: dict[str, Any]
