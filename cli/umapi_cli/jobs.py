"""``umapi users import|export`` and ``umapi jobs …``: bulk work through the jobs API (docs/api.md §10).

A long command shows a progress bar (rows, rate, the server's ETA) on stderr and ends with a
summary; ``--json`` prints the job object instead. Exit codes beyond main's: 5 the job
completed but some rows failed (``umapi jobs errors ID`` lists them); 6 the job itself failed,
was cancelled or expired.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm

from umapi_cli import config
from umapi_cli.api import TIMEOUT, AuthError, CliError, UnreachableError, UsageError, refusal

EXIT_ROWS_FAILED = 5
EXIT_JOB_FAILED = 6
UNFINISHED = ("awaiting_upload", "queued", "processing")
CONTENT_TYPES = {".csv": "text/csv", ".jsonl": "application/x-ndjson", ".ndjson": "application/x-ndjson"}


class JobOutcomeError(CliError):
    """The job ended, but not as hoped: its exit code says how."""

    def __init__(self, message: str, exit_code: int, job: dict[str, Any]) -> None:
        super().__init__(message, code=job.get("status"))
        self.exit_code = exit_code
        self.job = job


class Client:
    """Requests with the cached session's token; the API's errors become ``CliError``s.
    ``org_id``: every request acts in that organization (``?org_id=``, platform admins)."""

    def __init__(self, session: config.Session | None = None, org_id: str | None = None) -> None:
        self.org_id = org_id
        session = session or config.load()
        if session is None:
            raise AuthError("Not logged in.")
        if session.expires_at <= time.time():
            raise AuthError("The cached token has expired.")
        self.session = session
        self._http = requests.Session()
        self._http.headers["Authorization"] = f"Bearer {session.access_token}"

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.session.api_url}{path}"
        if self.org_id:
            kwargs["params"] = {**kwargs.get("params", {}), "org_id": self.org_id}
        try:
            response = self._http.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise UnreachableError(f"Cannot reach {self.session.api_url}: {exc.__class__.__name__}.") from exc
        if response.status_code >= 400:
            raise refusal(response)
        answer: dict[str, Any] = response.json()
        return answer

    def job(self, job_id: str) -> dict[str, Any]:
        return self.call("GET", f"/jobs/{job_id}")


# The bar shows rows, elapsed time and rate; the remaining time is the server's (eta_seconds,
# measured over the whole job), not a second estimate of tqdm's own.
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}{postfix}]"


def _bar_text(job: dict[str, Any]) -> str:
    eta = job.get("eta_seconds")
    parts = [job["status"], f"ok {job['successful']:,}", f"failed {job['failed']:,}"]
    if eta is not None:
        parts.append(f"eta {eta}s")
    return ", ".join(parts)


def watch(client: Client, job_id: str, *, quiet: bool, interval: float = 0.5) -> dict[str, Any]:
    """Polls the job until it ends, with a progress bar on stderr unless ``quiet``. Ctrl-C
    leaves the job running: ``KeyboardInterrupt`` carries its id, for main to say how to follow it."""
    try:
        return _watch(client, job_id, quiet=quiet, interval=interval)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(job_id) from None


def _watch(client: Client, job_id: str, *, quiet: bool, interval: float) -> dict[str, Any]:
    job = client.job(job_id)
    if not quiet:
        print(f"Job {job_id}: Ctrl-C stops watching, not the job.", file=sys.stderr)
    bar = (
        None if quiet else tqdm(total=job.get("total"), unit="row", desc="rows", file=sys.stderr, bar_format=BAR_FORMAT)
    )
    try:
        while True:
            if bar is not None:
                if job.get("total") is not None and bar.total != job["total"]:
                    bar.total = job["total"]
                bar.update(job["processed"] - bar.n)
                bar.set_postfix_str(_bar_text(job), refresh=True)
            if job["status"] not in UNFINISHED:
                return job
            time.sleep(interval)
            job = client.job(job_id)
    finally:
        if bar is not None:
            bar.close()


def summary(job: dict[str, Any]) -> str:
    took = ""
    if job.get("started_at") and job.get("completed_at"):
        from datetime import datetime

        started = datetime.fromisoformat(job["started_at"].replace("Z", "+00:00"))
        ended = datetime.fromisoformat(job["completed_at"].replace("Z", "+00:00"))
        took = f" in {(ended - started).total_seconds():.1f} s"
    text = (
        f"Job {job['id']} ({job['type']}) {job['status']}{took}: {job['processed']:,} of "
        f"{(job['total'] or 0):,} rows, {job['successful']:,} succeeded, {job['failed']:,} failed."
    )
    if job.get("error"):
        text += f" {job['error'].get('message', '')}"
    if job["failed"]:
        text += f" See `umapi jobs errors {job['id']}`."
    return text


def outcome(job: dict[str, Any]) -> dict[str, Any]:
    """The command's result for a finished job, or ``JobOutcomeError`` with its exit code."""
    if job["status"] != "completed":
        raise JobOutcomeError(summary(job), EXIT_JOB_FAILED, job)
    if job["failed"]:
        raise JobOutcomeError(summary(job), EXIT_ROWS_FAILED, job)
    return {**job, "text": summary(job)}


def import_users(args: Any) -> dict[str, Any]:
    path = Path(args.file)
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise UsageError(f"{path.name}: name a .csv, .jsonl or .ndjson file.")
    if not path.is_file():
        raise UsageError(f"{path}: no such file.")
    client = Client(org_id=args.org_id)
    body: dict[str, Any] = {"type": args.type, "upload": {"content_type": content_type}}
    if args.callback_url:
        body["callback_url"] = args.callback_url
    created = client.call("POST", "/jobs", json=body)
    size = path.stat().st_size
    with (
        path.open("rb") as file,
        tqdm.wrapattr(
            file, "read", total=size, desc="upload", unit="B", unit_scale=True, file=sys.stderr, disable=args.json
        ) as reading,
    ):
        try:
            upload = requests.put(created["upload_url"], data=reading, timeout=max(TIMEOUT, size / 1_000_000))
        except requests.RequestException as exc:
            raise UnreachableError(f"Cannot upload {path.name}: {exc.__class__.__name__}.") from exc
    if upload.status_code >= 300:
        raise CliError(
            f"The upload was refused ({upload.status_code}).", code="upload_refused", status=upload.status_code
        )
    if not args.wait:
        return {**created, "text": f"Job {created['id']} started; follow it with `umapi jobs watch {created['id']}`."}
    return outcome(watch(client, created["id"], quiet=args.json))


def export_users(args: Any) -> dict[str, Any]:
    client = Client(org_id=args.org_id)
    data = {"format": args.format}
    for name in ("status", "role", "department"):
        if getattr(args, name):
            data[name] = getattr(args, name)
    created = client.call("POST", "/jobs", json={"type": "user_export", "data": data})
    job = outcome(watch(client, created["id"], quiet=args.json))
    target = Path(args.output)
    try:
        with requests.get(job["result_url"], stream=True, timeout=TIMEOUT) as download:
            download.raise_for_status()
            with target.open("wb") as out:
                for piece in download.iter_content(1024 * 1024):
                    out.write(piece)
    except requests.RequestException as exc:
        raise UnreachableError(f"Cannot download the export: {exc.__class__.__name__}.") from exc
    job["text"] += f" Written to {target}."
    job["output"] = str(target)
    return job


def list_jobs(args: Any) -> dict[str, Any]:
    params = {"limit": str(args.limit)}
    if args.status:
        params["status"] = args.status
    if args.type:
        params["type"] = args.type
    page = Client(org_id=args.org_id).call("GET", "/jobs", params=params)
    lines = [
        f"{job['id']}  {job['type']:<21} {job['status']:<15} {job['progress']:>3}%  "
        f"{job['successful']:>9,} ok {job['failed']:>9,} failed  {job['created_at']}"
        for job in page["data"]
    ]
    return {**page, "text": "\n".join(lines) if lines else "No jobs."}


def show_job(args: Any) -> dict[str, Any]:
    job = Client(org_id=args.org_id).job(args.id)
    return {**job, "text": summary(job) if job["status"] not in UNFINISHED else f"{job['id']}: {_bar_text(job)}"}


def watch_job(args: Any) -> dict[str, Any]:
    return outcome(watch(Client(org_id=args.org_id), args.id, quiet=args.json))


def cancel_job(args: Any) -> dict[str, Any]:
    job = Client(org_id=args.org_id).call("POST", f"/jobs/{args.id}/cancel")
    return {**job, "text": summary(job)}


def job_errors(args: Any) -> dict[str, Any]:
    client = Client(org_id=args.org_id)
    found: list[dict[str, Any]] = []
    cursor = None
    while len(found) < args.limit:
        params = {"limit": str(min(100, args.limit - len(found))), **({"cursor": cursor} if cursor else {})}
        page = client.call("GET", f"/jobs/{args.id}/errors", params=params)
        found += page["data"]
        cursor = page["pagination"]["next_cursor"]
        if not cursor:
            break
    lines = [
        f"row {entry['index']}: {entry['error']['code']}: {entry['error']['message']}"
        + "".join(f" [{d['field']}: {d['message']}]" for d in entry["error"].get("details") or [])
        for entry in found
    ]
    more = " (more: raise --limit)" if cursor else ""
    return {"data": found, "text": ("\n".join(lines) or "No row errors.") + more}
