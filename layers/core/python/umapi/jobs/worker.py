"""What the queues drive (docs/api.md §10): planning an input, running its chunks, finishing the job.

- ``plan``: an input arrived in S3 (its notification, perhaps twice). The planner reads the
  object once, streamed, notes where each chunk of ``CHUNK_ROWS`` rows starts and ends,
  checks the header of a csv and the limits, and queues one message per chunk. A file it
  cannot read fails the job before any row is applied.
- ``run_chunk``: the rows of one chunk, in order, each exactly once (``RowRunner``), from
  where the chunk stands (a redelivered message resumes, it never repeats); counts move to
  the job every ``FLUSH_ROWS`` rows and when the chunk ends.
- ``finish_if_done``: the last chunk's end completes the job, once (a condition), with its
  ``job.completed`` event in the same transaction, then its callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.jobs.chunks import ChunkRepository
from umapi.jobs.entities import CHUNK_ROWS, MAX_ROWS, MAX_UPLOAD_BYTES, Job, finished, job_event
from umapi.jobs.inputs import RowError, UnreadableInputError, check_header, records, row_of
from umapi.jobs.messages import CallbackMessage, ChunkMessage, JobQueue, first_callback
from umapi.jobs.repository import JobRepository
from umapi.jobs.rows import RowRunner, principal_of
from umapi.observability import logger
from umapi.time import utc_now_iso

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FLUSH_ROWS = 50
PIECE_BYTES = 1024 * 1024
SPARE_MILLIS = 5_000  # a chunk stops this long before the function's timeout and queues its rest


class JobWorker:
    def __init__(
        self,
        jobs: JobRepository,
        chunks: ChunkRepository,
        s3: S3Client,
        bucket: str,
        queue: JobQueue,
        runner: RowRunner,
        view: Callable[[Job], dict[str, Any]],
        permissions: Callable[[Job], frozenset[str]],
    ) -> None:
        self._jobs = jobs
        self._chunks = chunks
        self._s3 = s3
        self._bucket = bucket
        self._queue = queue
        self._runner = runner
        self._view = view
        self._permissions = permissions

    # ------------------------------------------------------------------ planning
    def plan(self, key: str, size: int) -> None:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "inputs":
            logger.warning("not a job input", extra={"key": key})
            return
        job = self._jobs.get(parts[1], parts[2])
        if job is None or job.input_key != key:
            logger.warning("an input no job is waiting for", extra={"key": key})
            return
        if job.status == "awaiting_upload":
            if not self._jobs.update(job, ("awaiting_upload",), {"status": "queued"}):
                return  # cancelled or expired meanwhile
            job.status = "queued"
        if job.status not in ("queued", "processing") or job.planned:
            return  # a repeated notification
        try:
            if size > MAX_UPLOAD_BYTES:
                raise UnreadableInputError("input_too_large", "The file is larger than 100 MiB.")
            columns, chunks = self._split(job, key)
        except UnreadableInputError as exc:
            self.fail(job, {"code": exc.code, "message": exc.message})
            return
        total = sum(rows for _, _, _, rows in chunks)
        values = {
            "status": "processing",
            "total": total,
            "chunks_total": len(chunks),
            "columns": columns,
            "started_at": job.started_at or utc_now_iso(),
        }
        if not self._jobs.update(job, ("queued", "processing"), values):
            return
        for name, value in values.items():
            setattr(job, name, value)
        messages = [
            ChunkMessage(org_id=job.org_id, job_id=job.id, chunk=n, first_row=first, start=start, end=end)
            for n, (first, start, end, _) in enumerate(chunks)
        ]
        self._queue.send(list(messages))
        self._jobs.update(job, ("processing",), {"planned": True})
        if not chunks:
            self.finish_if_done(job)

    def _split(self, job: Job, key: str) -> tuple[list[str] | None, list[tuple[int, int, int, int]]]:
        """The csv's columns and the chunks: ``(first row, start byte, end byte, rows)``."""
        body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"]
        chunks: list[tuple[int, int, int, int]] = []
        columns = None
        row = 0
        current: list[int] | None = None  # first row, start, end, rows
        for start, end, record in records(job.input_format, body.iter_chunks(PIECE_BYTES)):
            if job.input_format == "csv" and columns is None:
                columns = check_header(job.type, record)
                continue
            if current is None:
                current = [row, start, end, 0]
            current[2] = end
            current[3] += 1
            row += 1
            if row > MAX_ROWS:
                raise UnreadableInputError("too_many_rows", f"The file has more than {MAX_ROWS:,} rows.")
            if current[3] == CHUNK_ROWS:
                chunks.append((current[0], current[1], current[2], current[3]))
                current = None
        if job.input_format == "csv" and columns is None:
            raise UnreadableInputError("invalid_columns", "The file has no header row.")
        if current is not None:
            chunks.append((current[0], current[1], current[2], current[3]))
        return columns, chunks

    # ------------------------------------------------------------------ chunks
    def run_chunk(self, message: ChunkMessage, remaining_millis: Callable[[], int]) -> None:
        job = self._jobs.get(message.org_id, message.job_id)
        if job is None or job.status != "processing":
            return  # cancelled, finished, or gone: nothing more is applied
        state = self._chunks.get(job, message.chunk)
        if state.done:
            self.finish_if_done(job)
            return
        principal = principal_of(job, self._permissions(job))
        body = self._s3.get_object(Bucket=self._bucket, Key=job.input, Range=f"bytes={message.start}-{message.end - 1}")
        # Each row is parsed when its turn comes, apart from the others: one that cannot be read
        # is that row's error (RowRunner records it), never the chunk's.
        pieces = body["Body"].iter_chunks(PIECE_BYTES)
        rows = [record for _, _, record in records(job.input_format, pieces, offset=message.start)]
        position = state.next
        since_flush = 0
        while position < len(rows):
            if remaining_millis() < SPARE_MILLIS:
                self._flush(job, message.chunk, done=False)
                self._queue.send([message])  # the rest, in a fresh invocation
                return
            try:
                row = parsed(job, rows[position])
                self._runner.apply(job, principal, message.chunk, position, message.first_row + position, row)
            except db.RowFencedError:
                current = self._jobs.get(job.org_id, job.id)
                if current is None or current.status != "processing":
                    self._flush(job, message.chunk, done=False)  # what was applied still counts
                    return
                position = self._chunks.get(job, message.chunk).next
                continue
            position += 1
            since_flush += 1
            if since_flush >= FLUSH_ROWS and position < len(rows):
                self._flush(job, message.chunk, done=False)
                since_flush = 0
                # The creator's session and permissions again: a revocation stops the rows
                # within FLUSH_ROWS of it, not at the chunk's end.
                principal = principal_of(job, self._permissions(job))
        if self._flush(job, message.chunk, done=True):
            self.finish_if_done(job)

    def _flush(self, job: Job, number: int, *, done: bool) -> bool:
        """Moves the chunk's counts to the job; ``done``: and the chunk itself, once. ``True`` if
        the chunk is done now (by this call or an earlier one)."""
        for _ in range(10):
            state = self._chunks.get(job, number)
            if state.done:
                return True
            if self._chunks.flush(job, number, state, done=done):
                return done
        raise db.RowFencedError("the chunk's counts keep moving; the message will come back")

    # ------------------------------------------------------------------ the end
    def finish_if_done(self, job: Job) -> None:
        current = self._jobs.get(job.org_id, job.id)
        if current is None:
            return
        if current.status == "processing" and current.chunks_done == current.chunks_total:
            done = finished(current, "completed")
            event = job_event(current, "job.completed", self._view(done))
            if not self._jobs.finish(current, "completed", event, all_chunks=True):
                return
            self.queue_callback(done)

    def fail(self, job: Job, failure: dict[str, Any]) -> None:
        """The job could not run: ``failed``, with why, and no row applied."""
        failed = finished(job, "failed", failure=failure)
        if self._jobs.finish(job, "failed", job_event(job, "job.failed", self._view(failed)), {"failure": failure}):
            self.queue_callback(failed)

    def queue_callback(self, job: Job) -> None:
        if job.callback_url:
            self._queue.send([first_callback(job.org_id, job.id)])


def parsed(job: Job, record: Any) -> dict[str, Any] | RowError:
    """A record as its row, or the ``RowError`` that says why it is not one."""
    try:
        return row_of(job.input_format, record, job.columns)
    except RowError as error:
        return error


class CallbackSender:
    """The one signed POST of a finished job to its ``callback_url`` (docs/api.md §10): signed like
    a webhook (``webhook-id`` is the job id) with the job's own secret, retried on the webhook
    schedule. An attempt is leased before it is made and recorded once (both conditional), so
    a repeated message never posts twice."""

    def __init__(
        self,
        jobs: JobRepository,
        queue: JobQueue,
        secret: Callable[[Job], str],
        view: Callable[[Job], dict[str, Any]],
        delays: tuple[int, ...],
        *,
        allow_loopback: bool,
        timeout: float,
    ) -> None:
        self._jobs = jobs
        self._queue = queue
        self._secret = secret
        self._view = view
        self._delays = delays
        self._allow_loopback = allow_loopback
        self._timeout = timeout

    def run(self, message: CallbackMessage) -> None:
        import json

        from umapi.webhooks.sender import post
        from umapi.webhooks.signing import signature_headers

        now = time.time()
        if message.not_before > now + 1:
            self._queue.send([message], now)  # early: wait the rest (SQS delays 15 minutes at most)
            return
        job = self._jobs.get(message.org_id, message.job_id)
        if job is None or not job.callback_url or job.unfinished:
            return
        if not self._jobs.lease_callback(job, message.attempt, now, now + self._timeout + 15):
            return  # made already, or being made
        body = json.dumps(self._view(job), separators=(",", ":")).encode()
        headers = signature_headers(body, job.id, int(now), [self._secret(job)])
        result = post(job.callback_url, body, headers, timeout=self._timeout, allow_loopback=self._allow_loopback)
        last = message.attempt >= len(self._delays)
        status = "delivered" if result.ok else ("failed" if last else "retrying")
        record = {
            "attempt": message.attempt,
            "at": utc_now_iso(),
            "status_code": result.status_code,
            "response_time_ms": result.response_time_ms,
            "error": result.error,
        }
        if self._jobs.record_callback(job, message.attempt, record, status) and status == "retrying":
            later = now + self._delays[message.attempt]
            self._queue.send(
                [CallbackMessage(org_id=job.org_id, job_id=job.id, attempt=message.attempt + 1, not_before=later)], now
            )
