"""``user_export`` (docs/api.md §10): the organization's users, selected as ``GET /users`` selects
them, streamed to S3 as JSONL or CSV.

Each step reads pages of users (the listing's own cursor) until it has a part of
``PART_BYTES`` or the users end, and uploads it: a multipart upload once the file is
larger than one part, a single ``PutObject`` otherwise. The step's state (upload id, parts,
cursor, rows) is saved on the job conditionally on the step number, and the next step is
a new message, so a repeated message does nothing and no step outlives its function.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from umapi.access.permissions import PLATFORM_ADMIN
from umapi.errors import ForbiddenError, error_body
from umapi.jobs.entities import Job, finished, job_event
from umapi.jobs.messages import ExportMessage, JobQueue
from umapi.jobs.ports import UserPages
from umapi.jobs.repository import JobRepository
from umapi.jobs.rows import principal_of
from umapi.time import utc_now_iso
from umapi.users.entries import ListQuery
from umapi.users.models import UserResponse

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PART_BYTES = 8 * 1024 * 1024  # S3 parts are at least 5 MiB, except the last
PAGE = 100
CSV_COLUMNS = tuple(UserResponse.model_fields)  # one column per field of the user object


# A spreadsheet reads a cell starting with one of these as a formula (OWASP's CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """A csv text cell no spreadsheet runs (docs/api.md §10): prefixed with ``'`` when it starts like
    a formula, otherwise kept."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(user: dict[str, Any]) -> str:
    """One user as a csv row: ``roles`` as role ids joined by ``;``, ``metadata`` as JSON, null
    empty, text that starts like a formula made inert."""
    cells = []
    for name in CSV_COLUMNS:
        value = user.get(name)
        if name == "roles":
            value = ";".join(role["id"] for role in value or [])
        elif name == "metadata":
            value = json.dumps(value or {}, separators=(",", ":"), sort_keys=True)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, str):
            value = inert(value)
        cells.append("" if value is None else str(value))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def header() -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(CSV_COLUMNS)
    return out.getvalue()


class Exporter:
    def __init__(
        self,
        jobs: JobRepository,
        s3: S3Client,
        bucket: str,
        queue: JobQueue,
        users: UserPages,
        view: Callable[[Job], dict[str, Any]],
        permissions: Callable[[Job], frozenset[str]],
        on_finished: Callable[[Job], None],
    ) -> None:
        self._jobs = jobs
        self._s3 = s3
        self._bucket = bucket
        self._queue = queue
        self._users = users
        self._view = view
        self._permissions = permissions
        self._on_finished = on_finished

    def run(self, message: ExportMessage) -> None:
        job = self._jobs.get(message.org_id, message.job_id)
        if job is None or not job.unfinished:
            return
        if job.status == "queued":
            fresh: dict[str, Any] = {"step": 0, "upload_id": None, "parts": [], "cursor": None, "rows": 0}
            if not self._jobs.update(
                job, ("queued",), {"status": "processing", "started_at": utc_now_iso(), "export": fresh}
            ):
                return
            job.status, job.export = "processing", fresh
        state = dict(job.export or {})
        if state.get("step") != message.step:
            return  # a repeated message: this step was done
        permissions = self._permissions(job)
        if job.permission not in permissions and PLATFORM_ADMIN not in permissions:
            self._revoked(job)
            return
        fmt = job.params.get("format", "jsonl")
        key = f"results/{job.org_id}/{job.id}.{fmt}"
        principal = principal_of(job, permissions)
        query = ListQuery(
            PAGE, state["cursor"], job.params.get("status"), job.params.get("role"), job.params.get("department"),
            None, "created_at", "asc",
        )  # fmt: skip
        buffer = io.StringIO()
        if message.step == 0 and fmt == "csv":
            buffer.write(header())
        rows = int(state["rows"])
        cursor = state["cursor"]
        while True:
            page = self._users.list_page(principal, query._replace(cursor=cursor))
            for user in page.data:
                buffer.write(csv_line(user) if fmt == "csv" else json.dumps(user, separators=(",", ":")) + "\n")
            rows += len(page.data)
            cursor = page.pagination.next_cursor
            if cursor is None or buffer.tell() >= PART_BYTES:
                break
        body = buffer.getvalue().encode()
        parts = list(state["parts"])
        if cursor is None and not parts:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=_content_type(fmt))
        else:
            upload_id = (
                state["upload_id"]
                or self._s3.create_multipart_upload(Bucket=self._bucket, Key=key, ContentType=_content_type(fmt))[
                    "UploadId"
                ]
            )
            number = len(parts) + 1
            etag = self._s3.upload_part(Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
            parts.append({"PartNumber": number, "ETag": etag["ETag"]})
            if cursor is not None:
                after = {
                    "step": message.step + 1,
                    "upload_id": upload_id,
                    "parts": parts,
                    "cursor": cursor,
                    "rows": rows,
                }
                if self._jobs.step_export(job, message.step, after, rows):
                    self._queue.send([ExportMessage(org_id=job.org_id, job_id=job.id, step=message.step + 1)])
                return
            self._s3.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        counts = {"total": rows, "processed": rows, "successful": rows, "failed": 0, "result_key": key}
        done = finished(job, "completed", **counts)
        if self._jobs.finish(job, "completed", job_event(job, "job.completed", self._view(done)), counts):
            self._on_finished(done)

    def _revoked(self, job: Job) -> None:
        """The session or client that created the export was revoked, or lost the permission to
        read users (docs/api.md §10): the job fails, and nothing more is read as that caller."""
        refusal = ForbiddenError(
            "The session or client that created this export was revoked, or no longer holds "
            f"{job.permission}; nothing more is read.",
            context={"required_permission": job.permission},
        )
        failure = error_body(refusal)
        failed = finished(job, "failed", failure=failure)
        if self._jobs.finish(job, "failed", job_event(job, "job.failed", self._view(failed)), {"failure": failure}):
            self._on_finished(failed)


def _content_type(fmt: str) -> str:
    return "text/csv" if fmt == "csv" else "application/x-ndjson"
