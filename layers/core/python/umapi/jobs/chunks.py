"""A job's chunks of rows and their row errors, in the table (docs/api.md §10).

    chunk         PK=ORG#<org>#JOB#<job>#CHUNKS  SK=<chunk no>   next row, counts, what was added to the job
    row error     PK=ORG#<org>#JOB#<job>#ERRORS  SK=<row index>  {index, id?, error}

Exactly once per row: a row's change carries two more transaction items (``row_guard``):
the chunk's ``next`` moves from this row to the next one (so a second copy of the message
cannot apply it again), and the job is still ``processing`` (so nothing is applied after a
cancel). Counts move to the job by ``flush``: one transaction that sets what the chunk has
added so far, conditional on what it had added before, and ``ADD``s the difference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.jobs.entities import ChunkState, Job, RowError
from umapi.jobs.repository import RETENTION_SECONDS, job_key
from umapi.table_keys import job_chunks_pk, job_errors_pk, job_index_sk
from umapi.time import parse_rfc3339

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class ChunkRepository:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def get(self, job: Job, number: int) -> ChunkState:
        """Chunk ``number`` of ``job`` as it stands (a chunk not started yet: all zero)."""
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table,
                Key={"PK": {"S": job_chunks_pk(job.org_id, job.id)}, "SK": {"S": job_index_sk(number)}},
                ConsistentRead=True,
            )
        values = db.deserialize(item.get("Item") or {})
        return ChunkState(
            next=int(values.get("next", 0)),
            ok=int(values.get("ok", 0)),
            bad=int(values.get("bad", 0)),
            added_ok=int(values.get("added_ok", 0)),
            added_bad=int(values.get("added_bad", 0)),
            done=bool(values.get("done", False)),
        )

    def row_guard(self, job: Job, number: int, position: int, *, ok: bool) -> list[dict[str, Any]]:
        """The two items every row's transaction carries: the chunk moves past this row (and
        counts it), the job is still processing."""
        first = "attribute_not_exists(#next) OR " if position == 0 else ""
        return [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"PK": {"S": job_chunks_pk(job.org_id, job.id)}, "SK": {"S": job_index_sk(number)}},
                    "UpdateExpression": "SET #next = :after, #ttl = if_not_exists(#ttl, :ttl) ADD #count :one",
                    "ConditionExpression": first + "#next = :at",
                    "ExpressionAttributeNames": {"#next": "next", "#count": "ok" if ok else "bad", "#ttl": "ttl"},
                    "ExpressionAttributeValues": {
                        ":at": {"N": str(position)},
                        ":after": {"N": str(position + 1)},
                        ":one": {"N": "1"},
                        ":ttl": {"N": str(int(_epoch(job.created_at)) + RETENTION_SECONDS)},
                    },
                }
            },
            {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": job_key(job.org_id, job.id),
                    "ConditionExpression": "#status = :processing",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":processing": {"S": "processing"}},
                }
            },
        ]

    def error_put(self, job: Job, index: int, row_id: str | None, error: dict[str, Any]) -> dict[str, Any]:
        item = {
            "PK": job_errors_pk(job.org_id, job.id),
            "SK": job_index_sk(index),
            "entity": "job_error",
            "index": index,
            "id": row_id,
            "error": error,
            "ttl": int(_epoch(job.created_at)) + RETENTION_SECONDS,
        }
        return db.put_new(self._table, db.serialize(item))

    def flush(self, job: Job, number: int, state: ChunkState, *, done: bool) -> bool:
        """Adds what the chunk counted since its last flush to the job, once (and, ``done``,
        the chunk itself to ``chunks_done``). ``False`` if another copy flushed first."""
        add_ok = state.ok - state.added_ok
        add_bad = state.bad - state.added_bad
        chunk_update = "SET added_ok = :ok, added_bad = :bad" + (", #done = :true" if done else "")
        job_update = "ADD #processed :n, #successful :ok, #failed :bad" + (", #chunks_done :one" if done else "")
        items = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"PK": {"S": job_chunks_pk(job.org_id, job.id)}, "SK": {"S": job_index_sk(number)}},
                    "UpdateExpression": chunk_update,
                    "ConditionExpression": "(attribute_not_exists(added_ok) OR "
                    "(added_ok = :was_ok AND added_bad = :was_bad)) AND attribute_not_exists(#done)",
                    "ExpressionAttributeNames": {"#done": "done"},
                    "ExpressionAttributeValues": {
                        ":ok": {"N": str(state.ok)},
                        ":bad": {"N": str(state.bad)},
                        ":was_ok": {"N": str(state.added_ok)},
                        ":was_bad": {"N": str(state.added_bad)},
                        **({":true": {"BOOL": True}} if done else {}),
                    },
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": job_key(job.org_id, job.id),
                    "UpdateExpression": job_update,
                    "ExpressionAttributeNames": {
                        "#processed": "processed",
                        "#successful": "successful",
                        "#failed": "failed",
                        **({"#chunks_done": "chunks_done"} if done else {}),
                    },
                    "ExpressionAttributeValues": {
                        ":n": {"N": str(add_ok + add_bad)},
                        ":ok": {"N": str(add_ok)},
                        ":bad": {"N": str(add_bad)},
                        **({":one": {"N": "1"}} if done else {}),
                    },
                }
            },
        ]
        if not done and add_ok + add_bad == 0:
            return True
        return not db.transact_failures(self._dynamodb, items)

    def errors_page(
        self, org_id: str, job_id: str, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[RowError], dict[str, Any] | None]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": job_errors_pk(org_id, job_id)}},
        }
        items, next_key = db.query_page(self._dynamodb, request, limit, start_key, ("PK", "SK"))
        errors = (db.deserialize(item) for item in items)
        return [RowError(int(e["index"]), e.get("id"), dict(e["error"])) for e in errors], next_key


def _epoch(moment: str) -> float:
    return parse_rfc3339(moment).timestamp()
