"""Jobs in the table (docs/api.md §10): the job, its slot, its export and callback state.

    job           PK=ORG#<org>#JOBS  SK=<job id>   GSI1 by status, GSI2 by type (newest first)
    job slots     PK=ORG#<org>       SK=JOBSLOTS   active: unfinished jobs, at most 5 (ADD, conditional)

A job's item also holds an export's progress (``export``) and its callback's attempts
(``callback``); its chunks and row errors are ``jobs.chunks``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.errors import ConflictError
from umapi.events import Event
from umapi.jobs.entities import MAX_UNFINISHED, UNFINISHED, Job, JobActor
from umapi.outbox import event_put
from umapi.table_keys import (
    JOB_SLOTS_SK,
    jobs_pk,
    jobs_status_pk,
    jobs_type_pk,
    org_pk,
)
from umapi.time import parse_rfc3339, utc_now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RETENTION_SECONDS = 30 * 86_400  # a finished job, its chunks and its row errors
INDEX_KEYS = {"GSI1": ("PK", "SK", "GSI1PK", "GSI1SK"), "GSI2": ("PK", "SK", "GSI2PK", "GSI2SK")}

_JOB_FIELDS = (
    "id",
    "org_id",
    "type",
    "status",
    "created_at",
    "params",
    "input_format",
    "input_key",
    "total",
    "processed",
    "successful",
    "failed",
    "chunks_total",
    "chunks_done",
    "columns",
    "started_at",
    "completed_at",
    "callback_url",
    "sealed_callback_secret",
    "result_key",
    "failure",
    "verify_url",
    "planned",
    "export",
    "callback",
    "version",
)


def job_key(org_id: str, job_id: str) -> dict[str, Any]:
    return {"PK": {"S": jobs_pk(org_id)}, "SK": {"S": job_id}}


def job_item(job: Job) -> dict[str, Any]:
    values = {name: getattr(job, name) for name in _JOB_FIELDS}
    return {
        "PK": jobs_pk(job.org_id),
        "SK": job.id,
        "GSI1PK": jobs_status_pk(job.org_id, job.status),
        "GSI1SK": job.id,
        "GSI2PK": jobs_type_pk(job.org_id, job.type),
        "GSI2SK": job.id,
        "entity": "job",
        **values,
        "actor": {**job.actor._asdict(), "permissions": sorted(job.actor.permissions)},
    }


def job_from_item(item: dict[str, Any]) -> Job:
    values = db.deserialize(item)
    actor = dict(values["actor"])
    actor["permissions"] = frozenset(actor.get("permissions") or ())
    fields = {name: values[name] for name in _JOB_FIELDS if name in values}
    return Job(**fields, actor=JobActor(**actor))


class JobRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    # ------------------------------------------------------------------ the job
    def create(self, job: Job) -> None:
        """The job, and one of the organization's 5 slots for unfinished jobs (409 when all are taken)."""
        slots = {
            "Update": {
                "TableName": self._table,
                "Key": {"PK": {"S": org_pk(job.org_id)}, "SK": {"S": JOB_SLOTS_SK}},
                "UpdateExpression": "ADD active :one",
                "ConditionExpression": "attribute_not_exists(active) OR active < :max",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":max": {"N": str(MAX_UNFINISHED)}},
            }
        }
        full = ConflictError(
            f"This organization has {MAX_UNFINISHED} unfinished jobs; wait for one to finish or cancel one.",
            context={"limit": MAX_UNFINISHED},
        )
        db.transact(
            self._dynamodb,
            [(db.put_new(self._table, db.serialize(job_item(job))), None), (slots, full)],
        )

    def get(self, org_id: str, job_id: str) -> Job | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(TableName=self._table, Key=job_key(org_id, job_id), ConsistentRead=True)
        return job_from_item(item["Item"]) if "Item" in item else None

    def page(
        self, org_id: str, status: str | None, job_type: str | None, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[Job], dict[str, Any] | None]:
        """Newest first; by status on GSI1, by type on GSI2 (both: GSI1, filtered by type)."""
        request: dict[str, Any] = {"TableName": self._table, "ScanIndexForward": False}
        if status is not None:
            index = "GSI1"
            request |= {
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": jobs_status_pk(org_id, status)}},
            }
            if job_type is not None:
                request["FilterExpression"] = "#type = :type"
                request["ExpressionAttributeNames"] = {"#type": "type"}
                request["ExpressionAttributeValues"][":type"] = {"S": job_type}
        elif job_type is not None:
            index = "GSI2"
            request |= {
                "IndexName": "GSI2",
                "KeyConditionExpression": "GSI2PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": jobs_type_pk(org_id, job_type)}},
            }
        else:
            index = ""
            request |= {
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": jobs_pk(org_id)}},
            }
        keys = INDEX_KEYS.get(index, ("PK", "SK"))
        items, next_key = db.query_page(
            self._dynamodb, request, limit, start_key, keys, filtered=status is not None and job_type is not None
        )
        return [job_from_item(item) for item in items], next_key

    def unfinished(self, org_id: str, status: str) -> list[Job]:
        """The organization's jobs in one unfinished status (at most 5 exist)."""
        jobs, _ = self.page(org_id, status, None, MAX_UNFINISHED + 1, None)
        return jobs

    def update(self, job: Job, expected: tuple[str, ...], values: dict[str, Any]) -> bool:
        """Sets ``values`` (``status`` moves the job in GSI1) if the job's status is one of
        ``expected``; ``False`` if it was not."""
        names, updates, attribute_values = self._set(job, values)
        ok, _ = db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=job_key(job.org_id, job.id),
            UpdateExpression="SET " + ", ".join(updates),
            ConditionExpression="#status IN (" + ", ".join(f":was{i}" for i in range(len(expected))) + ")",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=attribute_values
            | {f":was{i}": {"S": status} for i, status in enumerate(expected)},
        )
        return ok

    def finish(
        self,
        job: Job,
        status: str,
        event: Event | None,
        values: dict[str, Any] | None = None,
        *,
        all_chunks: bool = False,
    ) -> bool:
        """The job's last transition, once: its status (from an unfinished one; ``all_chunks``:
        only when every chunk is done), its slot given back and its event, in one transaction.
        ``False`` if another transition came first (or chunks remain)."""
        now = utc_now_iso()
        values = {"status": status, "completed_at": now, **(values or {})}
        names, updates, attribute_values = self._set(job, values)
        updates.append("#ttl = :ttl")
        names["#ttl"] = "ttl"
        attribute_values[":ttl"] = {"N": str(int(_epoch(now)) + RETENTION_SECONDS)}
        condition = "#status IN (" + ", ".join(f":was{i}" for i in range(len(UNFINISHED))) + ")"
        attribute_values |= {f":was{i}": {"S": was} for i, was in enumerate(sorted(UNFINISHED))}
        if all_chunks:
            condition += " AND #chunks_done = #chunks_total"
            names |= {"#chunks_done": "chunks_done", "#chunks_total": "chunks_total"}
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": job_key(job.org_id, job.id),
                    "UpdateExpression": "SET " + ", ".join(updates),
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": attribute_values,
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"PK": {"S": org_pk(job.org_id)}, "SK": {"S": JOB_SLOTS_SK}},
                    "UpdateExpression": "ADD active :minus",
                    "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                }
            },
        ]
        if event is not None:
            items.append(event_put(self._table, event))
        return not db.transact_failures(self._dynamodb, items)

    def _set(self, job: Job, values: dict[str, Any]) -> tuple[dict[str, str], list[str], dict[str, Any]]:
        names = {"#status": "status"}
        updates: list[str] = []
        attribute_values: dict[str, Any] = {}
        if "status" in values:
            values = {**values, "GSI1PK": jobs_status_pk(job.org_id, values["status"])}
        for position, (name, value) in enumerate(values.items()):
            names[f"#f{position}"] = name
            updates.append(f"#f{position} = :v{position}")
            attribute_values[f":v{position}"] = db.serialize({"v": value})["v"] if value is not None else {"NULL": True}
        return names, updates, attribute_values

    def step_export(self, job: Job, step: int, after: dict[str, Any], rows: int) -> bool:
        """Saves an export's state after step ``step`` (once: a repeated step finds it moved on)."""
        ok, _ = db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=job_key(job.org_id, job.id),
            UpdateExpression="SET #export = :after, #processed = :rows",
            ConditionExpression="#export.step = :step AND #status = :processing",
            ExpressionAttributeNames={"#export": "export", "#status": "status", "#processed": "processed"},
            ExpressionAttributeValues={
                ":after": db.serialize({"v": after})["v"],
                ":rows": {"N": str(rows)},
                ":step": {"N": str(step)},
                ":processing": {"S": "processing"},
            },
        )
        return ok

    # ------------------------------------------------------------------ the callback
    def lease_callback(self, job: Job, attempt: int, now: float, until: float) -> bool:
        """Takes attempt ``attempt`` of the callback (if it is the next one and nobody holds it)."""
        free = "(attribute_not_exists(#cb.lease_until) OR #cb.lease_until < :now)"
        condition = f"#cb.next_attempt = :k AND {free}"
        if attempt == 1:
            condition = f"attribute_not_exists(#cb) OR ({condition})"
            update = "SET #cb = :fresh"
        else:
            update = "SET #cb.lease_until = :until"
        ok, _ = db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=job_key(job.org_id, job.id),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#cb": "callback"},
            ExpressionAttributeValues={
                ":k": {"N": str(attempt)},
                ":now": {"N": str(now)},
                **(
                    {":fresh": db.serialize({"v": {"next_attempt": 1, "lease_until": until, "attempts": []}})["v"]}
                    if attempt == 1
                    else {":until": {"N": str(until)}}
                ),
            },
        )
        return ok

    def record_callback(self, job: Job, attempt: int, record: dict[str, Any], status: str) -> bool:
        ok, _ = db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=job_key(job.org_id, job.id),
            UpdateExpression="SET #cb.next_attempt = :next, #cb.#status = :status, "
            "#cb.attempts = list_append(#cb.attempts, :record) REMOVE #cb.lease_until",
            ConditionExpression="#cb.next_attempt = :k",
            ExpressionAttributeNames={"#cb": "callback", "#status": "status"},
            ExpressionAttributeValues={
                ":k": {"N": str(attempt)},
                ":next": {"N": str(attempt + 1)},
                ":status": {"S": status},
                ":record": db.serialize({"v": [record]})["v"],
            },
        )
        return ok


def _epoch(moment: str) -> float:
    return parse_rfc3339(moment).timestamp()
