"""The jobs API (docs/api.md §10): create, read, list, cancel, and a job's row errors."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from umapi.access.principal import Principal
from umapi.audit import RequestMeta
from umapi.errors import (
    ConflictError,
    ErrorDetail,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
)
from umapi.ids import new_id
from umapi.jobs.chunks import ChunkRepository
from umapi.jobs.entities import (
    CONTENT_TYPES,
    RESULT_URL_SECONDS,
    TYPE_PERMISSIONS,
    UPLOAD_URL_SECONDS,
    UPLOAD_WAIT_SECONDS,
    Job,
    JobActor,
    finished,
    job_event,
)
from umapi.jobs.messages import ExportMessage, JobQueue, first_callback
from umapi.jobs.models import (
    BulkCreateData,
    BulkUpdateData,
    CreateJobRequest,
    ExportData,
    JobResponse,
    RoleAssignmentData,
    RoleAssignmentUploadData,
)
from umapi.jobs.repository import JobRepository
from umapi.pagination import CursorCodec, Page
from umapi.safe_urls import UnsafeUrlError, check_subscription_url
from umapi.sealing import Sealer
from umapi.time import parse_rfc3339, utc_now_iso
from umapi.webhooks.signing import new_secret

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

INLINE_CONTENT_TYPE = "application/x-ndjson"  # inline rows are stored as JSON lines
SECRET_PURPOSE = "job-callback-secret"  # noqa: S105 - a key-derivation label, not a secret


def job_view(job: Job, now: float | None = None, result_url: str | None = None) -> dict[str, Any]:
    """The job object of docs/api.md §10 as JSON (for answers, events and callbacks)."""
    return JobResponse.of(job, now, result_url).model_dump(exclude_unset=True)


def seal_secret(sealer: Sealer, job_id: str, secret: str) -> str:
    return sealer.seal(SECRET_PURPOSE, secret.encode(), job_id)


def open_secret(sealer: Sealer, job: Job) -> str:
    return sealer.open(SECRET_PURPOSE, job.sealed_callback_secret or "", job.id).decode()


class JobService:
    def __init__(
        self,
        repository: JobRepository,
        chunks: ChunkRepository,
        cursors: CursorCodec,
        s3: S3Client,
        bucket: str,
        queue: JobQueue,
        sealer: Sealer,
        *,
        allow_loopback: bool,
    ) -> None:
        self._jobs = repository
        self._chunks = chunks
        self._cursors = cursors
        self._s3 = s3
        self._bucket = bucket
        self._queue = queue
        self._sealer = sealer
        self._allow_loopback = allow_loopback

    # ------------------------------------------------------------------ create
    def create(
        self, principal: Principal, request: CreateJobRequest, meta: RequestMeta, verify_url: str
    ) -> tuple[dict[str, Any], str]:
        """The new job's 202 answer (with ``upload_url`` and ``callback_secret`` when they apply)."""
        job_type = request.type
        principal.require(TYPE_PERMISSIONS[job_type])
        params, rows = self._inputs(request)
        upload = getattr(request, "upload", None)
        job_id = new_id("job")
        secret = None
        if request.callback_url is not None:
            self._safe(request.callback_url)
            secret = new_secret()
        fmt = "jsonl"
        if upload is not None:
            fmt = CONTENT_TYPES[upload.content_type]
        job = Job(
            id=job_id,
            org_id=principal.org_id,
            type=job_type,
            status="awaiting_upload" if upload is not None else "queued",
            created_at=utc_now_iso(),
            actor=JobActor(
                subject=principal.subject,
                client_id=principal.client_id,
                home_org_id=principal.home_org_id,
                permissions=frozenset(principal.permissions),
                request_id=meta.request_id,
                ip=meta.ip,
                user_agent=meta.user_agent,
                session_version=principal.session_version,
                session_id=principal.session_id,
            ),
            params=params,
            input_format=fmt,
            input_key=None if job_type == "user_export" else f"inputs/{principal.org_id}/{job_id}",
            callback_url=request.callback_url,
            sealed_callback_secret=seal_secret(self._sealer, job_id, secret) if secret else None,
            verify_url=verify_url,
        )
        self._reserve(job)
        try:
            if rows is not None:
                body = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows).encode()
                self._s3.put_object(Bucket=self._bucket, Key=job.input, Body=body, ContentType=INLINE_CONTENT_TYPE)
            elif job_type == "user_export":
                self._queue.send([ExportMessage(org_id=job.org_id, job_id=job.id, step=0)])
        except (ClientError, BotoCoreError, ServiceUnavailableError) as exc:  # S3 or SQS refused: nothing runs
            failure = {"code": "service_unavailable", "message": "The job could not be queued."}
            self._jobs.finish(job, "failed", None, {"failure": failure})
            raise ServiceUnavailableError("The job could not be queued; retry.", retry_after=1) from exc
        answer = job_view(job)
        if upload is not None:
            answer["upload_url"] = self._s3.generate_presigned_url(
                "put_object", Params={"Bucket": self._bucket, "Key": job.input_key}, ExpiresIn=UPLOAD_URL_SECONDS
            )
        if secret is not None:
            answer["callback_secret"] = secret
        return answer, job.id

    @staticmethod
    def _inputs(request: Any) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """The job's parameters and its inline rows (``None``: rows come by upload, or none)."""
        data = getattr(request, "data", None)
        if isinstance(data, BulkCreateData):
            return {}, data.users
        if isinstance(data, BulkUpdateData):
            return {}, data.updates
        if isinstance(data, RoleAssignmentData):
            params = data.model_dump(exclude_none=True, exclude={"user_ids"})
            return params, [{"user_id": user_id} for user_id in data.user_ids]
        if isinstance(data, RoleAssignmentUploadData):
            return data.model_dump(exclude_none=True), None
        if request.type == "user_export":
            return (data or ExportData()).model_dump(exclude_none=True), None
        return {}, None

    def _reserve(self, job: Job) -> None:
        """One of the organization's slots; uploads that never came are expired first."""
        try:
            self._jobs.create(job)
        except ConflictError:
            if not self._expire_waiting(job.org_id):
                raise
            self._jobs.create(job)

    def _expire_waiting(self, org_id: str) -> int:
        expired = 0
        for waiting in self._jobs.unfinished(org_id, "awaiting_upload"):
            expired += self._expire_if_due(waiting)
        return expired

    def _expire_if_due(self, job: Job) -> bool:
        if job.status != "awaiting_upload":
            return False
        if time.time() - parse_rfc3339(job.created_at).timestamp() < UPLOAD_WAIT_SECONDS:
            return False
        if self._jobs.finish(job, "expired", None):
            job.status, job.completed_at = "expired", utc_now_iso()
            return True
        return False

    # ------------------------------------------------------------------ read
    def get(self, principal: Principal, job_id: str) -> dict[str, Any]:
        job = self._find(principal, job_id)
        return self._view(job)

    def _view(self, job: Job) -> dict[str, Any]:
        self._expire_if_due(job)
        result_url = None
        if job.status == "completed" and job.result_key:
            result_url = self._s3.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": job.result_key}, ExpiresIn=RESULT_URL_SECONDS
            )
        return job_view(job, result_url=result_url)

    def list_page(
        self, principal: Principal, status: str | None, job_type: str | None, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        scope = f"jobs:{principal.org_id}:{status}:{job_type}"
        start = self._cursors.decode(cursor, scope) if cursor else None
        jobs, next_key = self._jobs.page(principal.org_id, status, job_type, limit, start)
        return Page[dict[str, Any]](
            data=[self._view(job) for job in jobs], pagination=self._cursors.page_info(limit, next_key, scope)
        )

    def errors_page(self, principal: Principal, job_id: str, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
        job = self._find(principal, job_id)
        scope = f"job-errors:{job.org_id}:{job.id}"
        start = self._cursors.decode(cursor, scope) if cursor else None
        errors, next_key = self._chunks.errors_page(job.org_id, job.id, limit, start)
        data = [{"index": e.row, **({"id": e.id} if e.id else {}), "error": e.error} for e in errors]
        return Page[dict[str, Any]](data=data, pagination=self._cursors.page_info(limit, next_key, scope))

    # ------------------------------------------------------------------ cancel
    def cancel(self, principal: Principal, job_id: str) -> dict[str, Any]:
        job = self._find(principal, job_id)
        principal.require(job.permission)
        self._expire_if_due(job)
        if not job.unfinished:
            raise ConflictError(f"Job {job.id} is {job.status} and can no longer be cancelled.")
        cancelled = finished(job, "cancelled")
        if not self._jobs.finish(job, "cancelled", job_event(job, "job.failed", job_view(cancelled))):
            current = self._jobs.get(job.org_id, job.id)
            raise ConflictError(
                f"Job {job.id} is {current.status if current else 'gone'} and can no longer be cancelled."
            )
        if job.callback_url:
            self._queue.send([first_callback(job.org_id, job.id)])
        return job_view(cancelled)

    # ------------------------------------------------------------------ helpers
    def _find(self, principal: Principal, job_id: str) -> Job:
        job = self._jobs.get(principal.org_id, job_id) if job_id.startswith("job_") and len(job_id) <= 64 else None
        if job is None:
            raise NotFoundError(f"Job {job_id} not found.")
        return job

    def _safe(self, url: str) -> None:
        try:
            if not url.lower().startswith("https://") and not self._allow_loopback:
                raise UnsafeUrlError("is not https")
            check_subscription_url(url, allow_loopback=self._allow_loopback)
        except UnsafeUrlError as exc:
            raise ValidationError(
                f"The callback URL is not allowed: it {exc}.",
                details=[ErrorDetail("callback_url", str(exc), "unsafe_url")],
            ) from None
