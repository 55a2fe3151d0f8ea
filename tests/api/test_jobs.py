"""Jobs (docs/api.md §10) through the handlers: the API, the S3 notification, the planner and the
worker, on moto in-process."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.support.api import InProcessApi
from tests.support.backend import REGION
from tests.support.jobs import JobPump, jsonl
from tests.support.users import Tenant


@pytest.fixture
def pump(aws: dict[str, dict[str, Any]], lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> JobPump:
    """Small chunks and frequent flushes, so a few hundred rows cross every boundary."""
    monkeypatch.setattr("umapi.jobs.worker.CHUNK_ROWS", 40)
    monkeypatch.setattr("umapi.jobs.worker.FLUSH_ROWS", 15)
    return JobPump(aws, lambda_context)


def create_job(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    response = tenant.api.post("/jobs", token=tenant.access, json_body=body)
    assert response.status == 202, response.body
    return dict(response.json())


def job(tenant: Tenant, job_id: str) -> dict[str, Any]:
    response = tenant.api.get(f"/jobs/{job_id}", token=tenant.access)
    assert response.status == 200, response.body
    return dict(response.json())


def rows(count: int, prefix: str = "user") -> list[dict[str, Any]]:
    return [
        {"email": f"{prefix}{i}@example.com", "name": f"User {i}", "send_welcome_email": False} for i in range(count)
    ]


def test_an_inline_bulk_create_runs_to_completion(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    created = create_job(acme, {"type": "bulk_user_create", "data": {"users": rows(101)}})
    assert created["status"] == "queued"
    pump.pump()
    done = job(acme, created["id"])
    assert done["status"] == "completed", done
    assert (done["total"], done["processed"], done["successful"], done["failed"]) == (101, 101, 101, 0)
    assert done["progress"] == 100


# ---------------------------------------------------------------------- helpers
def put_upload(aws: dict[str, dict[str, Any]], created: dict[str, Any], body: bytes) -> None:
    """What ``curl -T file "$upload_url"`` does, through boto3 (moto in-process has no HTTP)."""
    assert "X-Amz-Expires=900" in created["upload_url"]
    key = f"inputs/{org_of(created)}/{created['id']}"
    boto3.client("s3", region_name=REGION).put_object(Bucket=aws["JobsBucket"]["Ref"], Key=key, Body=body)


_ORGS: dict[str, str] = {}


def org_of(created: dict[str, Any]) -> str:
    return _ORGS[created["id"]]


def upload_job(tenant: Tenant, job_type: str, content_type: str, **extra: Any) -> dict[str, Any]:
    created = create_job(tenant, {"type": job_type, "upload": {"content_type": content_type}, **extra})
    assert created["status"] == "awaiting_upload"
    _ORGS[created["id"]] = tenant.org_id
    return created


def errors(tenant: Tenant, job_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        page = tenant.api.get(f"/jobs/{job_id}/errors", token=tenant.access, query=query).json()
        found += page["data"]
        cursor = page["pagination"]["next_cursor"]
        if not cursor:
            return found


def user_count(tenant: Tenant) -> int:
    total, cursor = 0, None
    while True:
        query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = tenant.api.get("/users", token=tenant.access, query=query).json()
        total += len(page["data"])
        cursor = page["pagination"]["next_cursor"]
        if not cursor:
            return total


def events_of(tenant: Tenant, kind: str) -> list[dict[str, Any]]:
    page = tenant.api.get("/webhooks/events", token=tenant.access, query={"type": kind, "limit": "100"}).json()
    return list(page["data"])


# ---------------------------------------------------------------------- rows and their errors
def test_a_csv_with_bad_rows_counts_each_and_names_its_index(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    acme.user("taken@example.com", send_welcome_email=False)
    csv = (
        "email,name,role,send_welcome_email\n"
        "good0@example.com,Good Zero,member,false\n"  # 0
        "not-an-email,Bad Email,member,false\n"  # 1
        "twice@example.com,First,member,false\n"  # 2
        "twice@example.com,Second,member,false\n"  # 3: the same email within the file
        "taken@example.com,Existing,member,false\n"  # 4: an existing user's email
        "good1@example.com,Unknown Role,nosuchrole,false\n"  # 5
        '"good2@example.com","Quoted, with comma",viewer,false\n'  # 6
    )
    created = upload_job(acme, "bulk_user_create", "text/csv")
    put_upload(aws, created, csv.encode())
    pump.pump()
    done = job(acme, created["id"])
    assert (done["status"], done["total"], done["successful"], done["failed"]) == ("completed", 7, 3, 4), done
    found = {entry["index"]: entry["error"]["code"] for entry in errors(acme, created["id"])}
    assert found == {1: "validation_error", 3: "conflict", 4: "conflict", 5: "validation_error"}
    assert user_count(acme) == 4


def test_a_csv_with_an_unknown_column_fails_the_job_and_applies_nothing(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    created = upload_job(acme, "bulk_user_create", "text/csv")
    put_upload(aws, created, b"email,name,shoe_size\na@example.com,A,42\n")
    pump.pump()
    done = job(acme, created["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "invalid_columns"
    assert "shoe_size" in done["error"]["message"]
    assert (done["processed"], user_count(acme)) == (0, 0)
    assert len(events_of(acme, "job.failed")) == 1


def test_an_unreadable_file_fails_the_job_and_applies_nothing(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    created = upload_job(acme, "bulk_user_create", "application/x-ndjson")
    good = b'{"email": "fine@example.com", "name": "Fine", "send_welcome_email": false}\n'
    put_upload(aws, created, good + b"\xff\xfe\x00garbage\n")
    pump.pump()
    done = job(acme, created["id"])
    assert (done["status"], done["error"]["code"], user_count(acme)) == ("failed", "unreadable_input", 0)


def test_rerunning_the_same_rows_creates_nothing_and_reports_a_conflict_each(
    api: InProcessApi, acme: Tenant, pump: JobPump
) -> None:
    first = create_job(acme, {"type": "bulk_user_create", "data": {"users": rows(30)}})
    pump.pump()
    second = create_job(acme, {"type": "bulk_user_create", "data": {"users": rows(30)}})
    pump.pump()
    assert job(acme, first["id"])["successful"] == 30
    again = job(acme, second["id"])
    assert (again["successful"], again["failed"]) == (0, 30)
    assert {entry["error"]["code"] for entry in errors(acme, second["id"])} == {"conflict"}
    assert user_count(acme) == 30


def test_bulk_update_and_role_assignment_rows_use_the_endpoints_rules(
    api: InProcessApi, acme: Tenant, pump: JobPump
) -> None:
    users = [acme.user(f"u{i}@example.com", send_welcome_email=False) for i in range(3)]
    updates = [{"id": users[0]["id"], "department": "Sales"}, {"id": "usr_nope", "name": "X"}, {"name": "no id"}]
    update = create_job(acme, {"type": "bulk_user_update", "data": {"updates": updates}})
    assign = create_job(
        acme,
        {
            "type": "bulk_role_assignment",
            "data": {"user_ids": [u["id"] for u in users], "role_id": "viewer", "action": "assign"},
        },
    )
    pump.pump()
    assert (job(acme, update["id"])["successful"], job(acme, update["id"])["failed"]) == (1, 2)
    assert acme.get(users[0]["id"]).json()["department"] == "Sales"
    assert {e["index"]: e.get("id") for e in errors(acme, update["id"])} == {1: "usr_nope", 2: None}
    assert job(acme, assign["id"])["successful"] == 3
    assert all("role_viewer" in {r["id"] for r in acme.get(u["id"]).json()["roles"]} for u in users)
    audit = api.get("/audit-log", token=acme.access, query={"action": "role.assigned"}).json()["data"]
    assert audit
    assert all(entry["job_id"] == assign["id"] for entry in audit)


# ---------------------------------------------------------------------- exactly once
def test_a_worker_killed_mid_chunk_resumes_without_repeating_or_losing_rows(
    api: InProcessApi, acme: Tenant, pump: JobPump, monkeypatch: pytest.MonkeyPatch
) -> None:
    from umapi.jobs.rows import RowRunner

    run = RowRunner._run
    calls = {"n": 0}

    def crashing(self: RowRunner, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] in (37, 95):  # killed twice, in two chunks
            raise RuntimeError("worker killed")
        run(self, *args)

    monkeypatch.setattr(RowRunner, "_run", crashing)
    created = create_job(acme, {"type": "bulk_user_create", "data": {"users": rows(130)}})
    pump.pump()
    done = job(acme, created["id"])
    assert (done["status"], done["processed"], done["successful"], done["failed"]) == ("completed", 130, 130, 0)
    assert user_count(acme) == 130
    assert len(events_of(acme, "job.completed")) == 1


def test_every_message_delivered_twice_changes_nothing(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    created = create_job(acme, {"type": "bulk_user_create", "data": {"users": [*rows(90), {"email": "bad"}]}})
    pump.pump(duplicate=True)
    done = job(acme, created["id"])
    assert (done["processed"], done["successful"], done["failed"]) == (91, 90, 1)
    assert user_count(acme) == 90
    assert len(errors(acme, created["id"])) == 1
    assert len(events_of(acme, "job.completed")) == 1


def test_a_repeated_upload_notification_plans_the_job_once(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    created = upload_job(acme, "bulk_user_create", "application/x-ndjson")
    put_upload(aws, created, jsonl(rows(20)))
    notification = pump.receive("JobUploadQueue")
    assert notification
    sqs = boto3.client("sqs", region_name=REGION)
    for message in notification:  # S3 delivers at least once: the same notification again
        sqs.send_message(QueueUrl=aws["JobUploadQueue"]["Ref"], MessageBody=message["Body"])
    pump.pump()
    done = job(acme, created["id"])
    assert (done["status"], done["successful"], user_count(acme)) == ("completed", 20, 20)


def test_a_cancel_while_chunks_are_in_flight_stops_the_rest(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    created = create_job(acme, {"type": "bulk_user_create", "data": {"users": rows(130)}})
    seen = {"chunks": 0}

    def cancel_after_the_first_chunk(queue: str, record: dict[str, Any]) -> None:
        if queue == "JobQueue" and '"chunk"' in record["body"]:
            seen["chunks"] += 1
            if seen["chunks"] == 2:
                answer = acme.api.post(f"/jobs/{created['id']}/cancel", token=acme.access)
                assert answer.status == 200
                assert answer.json()["status"] == "cancelled"

    pump.before_invoke = cancel_after_the_first_chunk
    pump.pump()
    done = job(acme, created["id"])
    assert done["status"] == "cancelled"
    assert (done["processed"], done["successful"], user_count(acme)) == (40, 40, 40)
    assert len(events_of(acme, "job.failed")) == 1
    assert not events_of(acme, "job.completed")
    again = acme.api.post(f"/jobs/{created['id']}/cancel", token=acme.access)
    assert (again.status, again.error["code"]) == (409, "conflict")


# ---------------------------------------------------------------------- the API's rules
def test_a_sixth_unfinished_job_is_refused(api: InProcessApi, acme: Tenant) -> None:
    for _ in range(5):
        upload_job(acme, "bulk_user_create", "text/csv")
    response = api.post("/jobs", token=acme.access, json_body={"type": "user_export"})
    assert (response.status, response.error["code"]) == (409, "conflict")


def test_jobs_are_invisible_across_organizations(api: InProcessApi, acme: Tenant, globex: Tenant) -> None:
    created = upload_job(acme, "bulk_user_create", "text/csv")
    for path in (f"/jobs/{created['id']}", f"/jobs/{created['id']}/errors"):
        assert api.get(path, token=globex.access).status == 404
    assert api.post(f"/jobs/{created['id']}/cancel", token=globex.access).status == 404
    assert api.get("/jobs", token=globex.access).json()["data"] == []


def test_creating_needs_the_types_permission_and_reading_needs_users_read(
    api: InProcessApi, acme: Tenant, platform: Any
) -> None:
    from tests.support.flows import admin_token, new_client, token

    admin = admin_token(api, platform)
    reader = new_client(api, admin, acme.org_id, ["users:read"])
    access = token(api, reader.client_id, reader.client_secret)
    refused = api.post("/jobs", token=access, json_body={"type": "bulk_user_create", "data": {"users": rows(1)}})
    assert (refused.status, refused.error["code"]) == (403, "forbidden")
    assert api.post("/jobs", token=access, json_body={"type": "user_export"}).status == 202
    created = upload_job(acme, "bulk_user_create", "text/csv")
    assert api.get(f"/jobs/{created['id']}", token=access).status == 200
    assert api.post(f"/jobs/{created['id']}/cancel", token=access).status == 403


def test_job_bodies_are_validated(api: InProcessApi, acme: Tenant) -> None:
    for body in (
        {"type": "bulk_user_create"},
        {"type": "bulk_user_create", "data": {"users": []}},
        {"type": "bulk_user_create", "data": {"users": rows(1)}, "upload": {"content_type": "text/csv"}},
        {"type": "user_export", "upload": {"content_type": "text/csv"}},
        {"type": "bulk_role_assignment", "data": {"user_ids": ["usr_1"], "role_id": "viewer", "action": "grant"}},
        {"type": "nope"},
        {"type": "user_export", "callback_url": "http://10.0.0.1/hook"},
    ):
        response = api.post("/jobs", token=acme.access, json_body=body)
        assert (response.status, response.error["code"]) == (400, "validation_error"), (body, response.body)


def test_jobs_list_newest_first_with_filters_and_a_location(api: InProcessApi, acme: Tenant) -> None:
    first = upload_job(acme, "bulk_user_create", "text/csv")
    response = api.post("/jobs", token=acme.access, json_body={"type": "user_export"})
    assert str(response.header("Location")).endswith(f"/jobs/{response.json()['id']}")
    listed = api.get("/jobs", token=acme.access).json()["data"]
    assert [j["id"] for j in listed] == [response.json()["id"], first["id"]]
    by_type = api.get("/jobs", token=acme.access, query={"type": "bulk_user_create"}).json()["data"]
    assert [j["id"] for j in by_type] == [first["id"]]
    by_status = api.get("/jobs", token=acme.access, query={"status": "awaiting_upload"}).json()["data"]
    assert [j["id"] for j in by_status] == [first["id"]]


# ---------------------------------------------------------------------- export
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_writes_every_selected_user(
    api: InProcessApi,
    acme: Tenant,
    pump: JobPump,
    aws: dict[str, dict[str, Any]],
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("umapi.jobs.export.PAGE", 20)  # several pages
    monkeypatch.setattr("umapi.jobs.export.PART_BYTES", 6 * 1024)  # and several steps and parts
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 1024)  # S3's 5 MiB minimum, scaled down
    import csv as csvlib
    import io
    import json

    made = [
        acme.user(f"e{i}@example.com", f"E {i}", send_welcome_email=False, metadata={"k": str(i)}) for i in range(50)
    ]
    acme.api.post(f"/users/{made[0]['id']}/deactivate", token=acme.access, json_body={})
    created = create_job(acme, {"type": "user_export", "data": {"format": fmt, "status": "pending_verification"}})
    pump.pump()
    done = job(acme, created["id"])
    assert (done["status"], done["total"]) == ("completed", 49), done
    assert "X-Amz-Expires=3600" in done["result_url"]
    steps = [json.loads(m["Body"]) for m in pump.receive("JobQueue")]
    assert steps == []  # every step ran
    key = f"results/{acme.org_id}/{created['id']}.{fmt}"
    stored = boto3.client("s3", region_name=REGION).get_object(Bucket=aws["JobsBucket"]["Ref"], Key=key)
    assert "-" in stored["ETag"]  # a multipart upload's ETag names its parts
    text = stored["Body"].read().decode()
    if fmt == "jsonl":
        exported = [json.loads(line) for line in text.splitlines()]
        assert {u["id"] for u in exported} == {u["id"] for u in made[1:]}
    else:
        exported = list(csvlib.DictReader(io.StringIO(text)))
        assert {u["id"] for u in exported} == {u["id"] for u in made[1:]}
        row = next(u for u in exported if u["id"] == made[5]["id"])
        assert (row["roles"], json.loads(row["metadata"]), row["phone"]) == ("role_member", {"k": "5"}, "")


# ---------------------------------------------------------------------- completion
def test_a_finished_job_posts_itself_once_signed_with_its_own_secret(
    api: InProcessApi, platform: Any, pump: JobPump, monkeypatch: pytest.MonkeyPatch
) -> None:
    from standardwebhooks import Webhook

    from tests.support.users import new_tenant
    from tests.support.webhooks import receiver
    from umapi import services
    from umapi.settings import get_settings

    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "0,0,0")
    get_settings.cache_clear()
    services.reset()
    tenant = new_tenant(api, platform, "Callbacks")
    with receiver(500, 200) as hook:
        created = create_job(tenant, {"type": "bulk_user_create", "data": {"users": rows(3)}, "callback_url": hook.url})
        secret = created["callback_secret"]
        assert secret.startswith("whsec_")
        assert "callback_secret" not in job(tenant, created["id"])
        pump.pump(duplicate=True)
    assert [r.json()["status"] for r in hook.received] == ["completed", "completed"]  # 500, then 200
    last = hook.received[-1]
    assert last.headers["webhook-id"] == created["id"]
    verified = Webhook(secret).verify(last.body, last.headers)
    assert verified["id"] == created["id"]
    assert verified["successful"] == 3


def test_two_workers_on_one_chunk_at_once_apply_each_row_once(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    """A message redelivered while its first copy still runs (a visibility timeout that ran out)."""
    from concurrent.futures import ThreadPoolExecutor

    from devserver.pollers import queue_record
    from functions.job_planner import handler as planner_function
    from functions.job_worker import handler as worker_function

    created = create_job(acme, {"type": "bulk_user_create", "data": {"users": rows(80)}})
    for message in pump.receive("JobUploadQueue"):
        record = queue_record(message, pump.attributes["JobUploadQueue"]["Arn"], REGION)
        planner_function.lambda_handler({"Records": [record]}, pump.context)
    chunks = pump.receive("JobQueue")
    assert len(chunks) == 2
    records = [queue_record(m, pump.attributes["JobQueue"]["Arn"], REGION) for m in chunks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(lambda record: worker_function.lambda_handler({"Records": [record]}, pump.context), records * 2)
        )
    assert all(answer == {"batchItemFailures": []} for answer in answers)
    done = job(acme, created["id"])
    assert (done["status"], done["processed"], done["successful"], done["failed"]) == ("completed", 80, 80, 0)
    assert user_count(acme) == 80
    assert len(events_of(acme, "job.completed")) == 1


# ---------------------------------------------------------------------- no escalation
def _client_with(api: InProcessApi, platform: Any, org_id: str, scopes: list[str]) -> tuple[str, str]:
    from tests.support.flows import admin_token, new_client, token

    made = new_client(api, admin_token(api, platform), org_id, scopes)
    return made.client_id, token(api, made.client_id, made.client_secret)


@pytest.mark.parametrize("job_type", ["bulk_user_create", "bulk_user_update", "bulk_role_assignment", "user_export"])
def test_each_type_needs_the_permission_the_route_declares(
    api: InProcessApi, acme: Tenant, platform: Any, job_type: str
) -> None:
    from functions.jobs import handler
    from umapi.access.permissions import PERMISSIONS
    from umapi.dependencies import declared_permissions
    from umapi.jobs.entities import TYPE_PERMISSIONS

    declaration = declared_permissions(handler.create_job)
    assert declaration is not None
    assert declaration.by_type == TYPE_PERMISSIONS
    needed = declaration.by_type[job_type]
    _, access = _client_with(api, platform, acme.org_id, sorted(set(PERMISSIONS) - {needed}))
    bodies: dict[str, dict[str, Any]] = {
        "bulk_user_create": {"data": {"users": rows(1)}},
        "bulk_user_update": {"data": {"updates": [{"id": "usr_x", "name": "X"}]}},
        "bulk_role_assignment": {"data": {"user_ids": ["usr_x"], "role_id": "viewer", "action": "assign"}},
        "user_export": {},
    }
    refused = api.post("/jobs", token=access, json_body={"type": job_type, **bodies[job_type]})
    assert (refused.status, refused.error.get("required_permission")) == (403, needed)
    assert api.get("/jobs", token=acme.access).json()["data"] == []  # nothing was created


def test_rows_cannot_give_more_than_the_creator_holds(
    api: InProcessApi, acme: Tenant, platform: Any, pump: JobPump
) -> None:
    _, access = _client_with(api, platform, acme.org_id, ["users:create", "users:read"])
    users = [{"email": "boss@example.com", "name": "Boss", "role": "admin", "send_welcome_email": False}]
    response = api.post("/jobs", token=access, json_body={"type": "bulk_user_create", "data": {"users": users}})
    assert response.status == 202
    pump.pump()
    assert job(acme, response.json()["id"])["failed"] == 1
    assert [e["error"]["code"] for e in errors(acme, response.json()["id"])] == ["forbidden"]
    assert user_count(acme) == 0


def test_a_deleted_creator_applies_nothing_more(
    api: InProcessApi, acme: Tenant, platform: Any, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    from tests.support.flows import admin_token

    client_id, access = _client_with(api, platform, acme.org_id, ["users:create", "users:read"])
    answer = api.post(
        "/jobs", token=access, json_body={"type": "bulk_user_create", "upload": {"content_type": "text/csv"}}
    )
    created = answer.json()
    _ORGS[created["id"]] = acme.org_id
    gone = api.delete(f"/clients/{client_id}", token=admin_token(api, platform), query={"org_id": acme.org_id})
    assert gone.status == 204, gone.body
    put_upload(aws, created, b"email,name,send_welcome_email\na@example.com,A,false\nb@example.com,B,false\n")
    pump.pump()
    done = job(acme, created["id"])
    assert (done["status"], done["successful"], done["failed"]) == ("completed", 0, 2)
    assert user_count(acme) == 0
