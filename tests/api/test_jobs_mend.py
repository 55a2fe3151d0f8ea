"""Jobs under hostile input and revoked sessions (docs/api.md §10): one bad row is that row's error
and never the chunk's, a csv header is checked in linear time, a job stops with the session
that created it, exports hand spreadsheets no formulas, and rows answer the codes of the
endpoint they stand for."""

from __future__ import annotations

import csv
import io
import itertools
import json
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_jobs import create_job, errors, job, pump, put_upload, upload_job, user_count
from tests.support.api import InProcessApi
from tests.support.backend import REGION
from tests.support.jobs import JobPump, jsonl
from tests.support.login import LoginWorld, code_from, exchange, sign_in
from tests.support.users import Tenant
from umapi.jobs.inputs import UnreadableInputError, check_header

__all__ = ["pump"]  # the fixture: small chunks and frequent flushes

DEEP = 20_000
EXAMPLES = itertools.count()  # each example's good rows get emails no other example used


def deep(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


def finished(tenant: Tenant, job_id: str) -> dict[str, Any]:
    done = job(tenant, job_id)
    assert done["status"] == "completed", done
    return done


# ---------------------------------------------------------------------- 1. one hostile row
def test_a_deeply_nested_line_is_its_rows_error_and_the_others_apply(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    # Given a file whose second line nests 20,000 deep, between two good rows
    good = [{"email": f"g{i}@example.com", "name": f"G {i}", "send_welcome_email": False} for i in range(2)]
    body = jsonl(good[:1]) + ('{"email": ' + deep() + "}\n").encode() + jsonl(good[1:])
    created = upload_job(acme, "bulk_user_create", "application/x-ndjson")
    # When it is uploaded and the queues run
    put_upload(aws, created, body)
    pump.pump()
    # Then the job completes: the deep line is row 1's validation_error, the others are applied
    done = finished(acme, created["id"])
    assert (done["total"], done["successful"], done["failed"]) == (3, 2, 1)
    assert [(e["index"], e["error"]["code"]) for e in errors(acme, created["id"])] == [(1, "validation_error")]
    assert user_count(acme) == 2
    assert pump.queued() == 0


def test_a_csv_metadata_cell_nested_deep_is_its_rows_error(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "name", "metadata", "send_welcome_email"])
    writer.writerow(["a@example.com", "A", '{"k": "v"}', "false"])
    writer.writerow(["b@example.com", "B", '{"k": ' + deep() + "}", "false"])
    created = upload_job(acme, "bulk_user_create", "text/csv")
    put_upload(aws, created, out.getvalue().encode())
    pump.pump()
    done = finished(acme, created["id"])
    assert (done["successful"], done["failed"]) == (1, 1)
    assert [(e["index"], e["error"]["code"]) for e in errors(acme, created["id"])] == [(1, "validation_error")]


def test_a_lone_surrogate_in_an_update_rows_id_is_stored_safely_as_its_error(
    api: InProcessApi, acme: Tenant, pump: JobPump
) -> None:
    # Given a bulk update whose first row names "usr_\ud800" (valid JSON, not UTF-8 text)
    target = acme.user("t@example.com", "Target", send_welcome_email=False)
    updates = [{"id": "usr_\ud800", "name": "X"}, {"id": target["id"], "department": "Ops"}]
    body = json.dumps({"type": "bulk_user_update", "data": {"updates": updates}})  # ensure_ascii: \ud800
    response = acme.api.post("/jobs", token=acme.access, raw_body=body, headers={"Content-Type": "application/json"})
    # Then the request itself is refused (the same rule as every endpoint), nothing is queued
    assert response.status == 400, response.body
    assert response.json()["error"]["details"][0]["code"] == "json_invalid"


def test_a_lone_surrogate_in_an_uploaded_row_is_that_rows_error(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    target = acme.user("t@example.com", "Target", send_welcome_email=False)
    lines = ['{"id": "usr_\\ud800", "name": "X"}', json.dumps({"id": target["id"], "department": "Ops"})]
    created = upload_job(acme, "bulk_user_update", "application/x-ndjson")
    put_upload(aws, created, ("\n".join(lines) + "\n").encode())
    pump.pump()
    done = finished(acme, created["id"])
    assert (done["successful"], done["failed"]) == (1, 1)
    [error] = errors(acme, created["id"])
    assert (error["index"], error["error"]["code"]) == (0, "validation_error")
    assert "surrogate" in error["error"]["message"]
    assert acme.get(target["id"]).json()["department"] == "Ops"


# Hostile values: none is a valid email, so every hostile row fails and every good row applies.
HOSTILE_JSON = st.one_of(
    st.integers(min_value=1, max_value=4000).map(lambda n: "[" * n + "]" * n),  # nesting
    st.sampled_from(['"\\ud800"', '"a\\udfff@example.com"', '"\\u0000@example.com"']),  # surrogates, NUL
    st.integers(min_value=30, max_value=4000).map(lambda n: "9" * n),  # huge numbers
    st.sampled_from(["1e999", "-1e999", "true", "null", "{}", '{"a": []}']),  # wrong types
    st.integers(min_value=255, max_value=200_000).map(lambda n: json.dumps("x" * n)),  # huge strings
)
HOSTILE_LINE = st.one_of(
    HOSTILE_JSON.map(lambda value: '{"email": ' + value + ', "name": "Hostile"}'),
    # (an address that is not one: a metadata value that happens to be valid still fails its row)
    HOSTILE_JSON.map(lambda value: '{"email": "h-at-example.com", "name": "H", "metadata": ' + value + "}"),
    HOSTILE_JSON,  # the line itself, not an object
    st.sampled_from(
        ["not json", "{", '{"email": "x@example.com", "name": "X", "name": 1, '],
    ),
)
HOSTILE_CELL = st.one_of(
    st.integers(min_value=1, max_value=4000).map(lambda n: "[" * n + "]" * n),
    st.sampled_from(["\x00", "a\x00@example.com", "=HYPERLINK(1)", '"', "\r", "\n"]),
    st.integers(min_value=255, max_value=200_000).map(lambda n: "x" * n + "@example.com"),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40).map(lambda t: t.replace("@", "")),
)
HOSTILE_METADATA = st.one_of(
    st.integers(min_value=1, max_value=4000).map(lambda n: '{"k": ' + "[" * n + "]" * n + "}"),
    st.sampled_from(['{"k": "\\ud800"}', '{"\\udfff": "v"}', "[1]", "99" * 3000, "{"]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(["jsonl", "csv"]),
    plan=st.lists(st.one_of(st.none(), st.integers(0, 2**16)), min_size=1, max_size=12),
    data=st.data(),
)
def test_every_job_of_hostile_rows_completes_with_exact_counts(
    api: InProcessApi,
    acme: Tenant,
    pump: JobPump,
    aws: dict[str, dict[str, Any]],
    fmt: str,
    plan: list[int | None],
    data: st.DataObject,
) -> None:
    # Given rows in which None stands for a good row (a fresh email) and a number for a hostile one
    seq = next(EXAMPLES)
    lines: list[str] = []
    hostile: list[int] = []
    for index, kind in enumerate(plan):
        email = f"good{seq}-{index}@example.com"
        if kind is None:
            lines.append(json.dumps({"email": email, "name": "Good", "send_welcome_email": False}))
            continue
        hostile.append(index)
        if fmt == "jsonl":
            lines.append(data.draw(HOSTILE_LINE))
        elif kind % 2:
            lines.append(json.dumps({"email": data.draw(HOSTILE_CELL), "name": "H", "send_welcome_email": False}))
        else:
            lines.append(json.dumps({"email": email, "name": "H", "metadata": data.draw(HOSTILE_METADATA)}))
    if fmt == "jsonl":
        body = "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass")
        created = upload_job(acme, "bulk_user_create", "application/x-ndjson")
    else:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", "name", "metadata", "send_welcome_email"])
        for line in lines:
            row = json.loads(line)
            writer.writerow([row["email"], row["name"], row.get("metadata", ""), "false"])
        body = out.getvalue().encode()
        created = upload_job(acme, "bulk_user_create", "text/csv")
    # When the file is uploaded and the queues run
    put_upload(aws, created, body)
    pump.pump()
    # Then the job completes, every row is counted once, and each hostile row is its own error
    done = finished(acme, created["id"])
    counts = (done["total"], done["processed"], done["successful"], done["failed"])
    assert counts == (len(plan), len(plan), len(plan) - len(hostile), len(hostile)), done
    found = errors(acme, created["id"])
    assert [e["index"] for e in found] == hostile
    assert {e["error"]["code"] for e in found} <= {"validation_error"}
    assert pump.queued() == 0


# ---------------------------------------------------------------------- 2. the csv header
def test_a_header_of_36000_columns_fails_the_job_at_once(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    created = upload_job(acme, "bulk_user_create", "text/csv")
    put_upload(aws, created, (",".join(["email"] * 36_000) + "\na@example.com\n").encode())
    pump.pump()
    done = job(acme, created["id"])
    assert (done["status"], done["error"]["code"]) == ("failed", "invalid_columns")
    assert "36,000 columns" in done["error"]["message"]
    assert user_count(acme) == 0


def test_the_header_check_names_what_is_wrong() -> None:
    with pytest.raises(UnreadableInputError, match="Repeated column\\(s\\): email"):
        check_header("bulk_user_create", ["email", "name", "email"])
    with pytest.raises(UnreadableInputError, match="at most 1 \\(user_id\\)"):
        check_header("bulk_role_assignment", ["user_id", "x", "y"])
    with pytest.raises(UnreadableInputError, match="Missing column\\(s\\): name"):
        check_header("bulk_user_create", ["email"])
    assert check_header("bulk_user_create", [" email", "name "]) == ["email", "name"]


# ---------------------------------------------------------------------- 3. the creating session
def signed_in_admin(world: LoginWorld) -> dict[str, Any]:
    """The admin's tokens from a browser sign-in through the web app."""
    answer = exchange(world, world.web, code_from(sign_in(world, world.web)))
    assert answer.status == 200, answer.body
    return dict(answer.json())


def admins_upload(world: LoginWorld, access: str) -> dict[str, Any]:
    response = world.api.post(
        "/jobs", token=access, json_body={"type": "bulk_user_create", "upload": {"content_type": "text/csv"}}
    )
    assert response.status == 202, response.body
    created = dict(response.json())
    from tests.api.test_jobs import _ORGS

    _ORGS[created["id"]] = world.tenant.org_id
    return created


NEW_ADMIN = b"email,name,role,send_welcome_email\nnew-admin@example.com,New Admin,admin,false\n"


def revoke_by_password_change(world: LoginWorld, tokens: dict[str, Any]) -> None:
    changed = world.tenant.patch(world.user["id"], {"password": "Another-Pass-99"})
    assert changed.status == 200, changed.body


def revoke_by_suspension(world: LoginWorld, tokens: dict[str, Any]) -> None:
    api, access = world.api, world.tenant.access
    assert api.post(f"/users/{world.user['id']}/deactivate", token=access, json_body={}).status == 200
    assert api.post(f"/users/{world.user['id']}/activate", token=access).status == 200


def revoke_the_refresh_family(world: LoginWorld, tokens: dict[str, Any]) -> None:
    web = world.web
    answer = world.api.post(
        "/auth/revoke", form={"token": tokens["refresh_token"]}, basic=(web.client_id, web.client_secret or "")
    )
    assert answer.status == 200


@pytest.mark.parametrize("revoke", [revoke_by_password_change, revoke_by_suspension, revoke_the_refresh_family])
def test_a_job_applies_nothing_once_its_session_is_revoked(
    world: LoginWorld, pump: JobPump, aws: dict[str, dict[str, Any]], revoke: Any
) -> None:
    # Given an admin's signed-in session that created an upload job
    tokens = signed_in_admin(world)
    created = admins_upload(world, tokens["access_token"])
    # When that session is revoked, and then the file arrives
    revoke(world, tokens)
    put_upload(aws, created, NEW_ADMIN)
    pump.pump()
    # Then the job applies no row: each fails with forbidden, and no admin was created
    tenant = world.tenant
    done = finished(tenant, created["id"])
    assert (done["successful"], done["failed"]) == (0, 1)
    assert [e["error"]["code"] for e in errors(tenant, created["id"])] == ["forbidden"]
    found = tenant.api.get("/users", token=tenant.access, query={"search": "new-admin"}).json()["data"]
    assert found == []


def test_an_export_whose_session_is_revoked_fails_and_reads_nothing(world: LoginWorld, pump: JobPump) -> None:
    # Given an export created by an admin's signed-in session, revoked before it runs
    tokens = signed_in_admin(world)
    response = world.api.post(
        "/jobs", token=tokens["access_token"], json_body={"type": "user_export", "data": {"format": "jsonl"}}
    )
    assert response.status == 202, response.body
    revoke_by_password_change(world, tokens)
    # When the queue runs it
    pump.pump()
    # Then the job fails as forbidden, with nothing exported, and its slot is free again
    done = job(world.tenant, response.json()["id"])
    assert (done["status"], done["error"]["code"], done["result_url"]) == ("failed", "forbidden", None)
    assert pump.queued() == 0


def test_a_job_of_a_live_session_applies_its_rows(
    world: LoginWorld, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    tokens = signed_in_admin(world)
    created = admins_upload(world, tokens["access_token"])
    put_upload(aws, created, NEW_ADMIN)
    pump.pump()
    assert finished(world.tenant, created["id"])["successful"] == 1


# ---------------------------------------------------------------------- 4. csv exports
def test_a_csv_export_hands_spreadsheets_no_formulas(
    api: InProcessApi, acme: Tenant, pump: JobPump, aws: dict[str, dict[str, Any]]
) -> None:
    made = acme.user(
        "formula@example.com",
        '=HYPERLINK("https://evil.example","x")',
        department="@SUM(A1:A9)",
        phone="+14155550123",
        send_welcome_email=False,
        metadata={"note": "=1+1"},
    )
    created = create_job(acme, {"type": "user_export", "data": {"format": "csv"}})
    pump.pump()
    finished(acme, created["id"])
    key = f"results/{acme.org_id}/{created['id']}.csv"
    stored = boto3.client("s3", region_name=REGION).get_object(Bucket=aws["JobsBucket"]["Ref"], Key=key)
    row = next(r for r in csv.DictReader(io.StringIO(stored["Body"].read().decode())) if r["id"] == made["id"])
    assert row["name"] == "'" + '=HYPERLINK("https://evil.example","x")'
    assert row["department"] == "'@SUM(A1:A9)"
    assert row["phone"] == "'+14155550123"
    assert row["email"] == "formula@example.com"
    assert json.loads(row["metadata"]) == {"note": "=1+1"}  # a JSON cell starts with {


def test_a_jsonl_export_keeps_text_as_it_is(api: InProcessApi, acme: Tenant, pump: JobPump, aws: Any) -> None:
    made = acme.user("formula@example.com", "=1+1", send_welcome_email=False)
    created = create_job(acme, {"type": "user_export", "data": {"format": "jsonl"}})
    pump.pump()
    key = f"results/{acme.org_id}/{created['id']}.jsonl"
    stored = boto3.client("s3", region_name=REGION).get_object(Bucket=aws["JobsBucket"]["Ref"], Key=key)
    [exported] = [json.loads(line) for line in stored["Body"].read().decode().splitlines()]
    assert (exported["id"], exported["name"]) == (made["id"], "=1+1")


# ---------------------------------------------------------------------- 6. the endpoint's codes
def role_rows_against_the_endpoint(
    acme: Tenant, pump: JobPump, action: str, user_ids: list[str], role_id: str = "viewer"
) -> set[str]:
    """The job's row codes equal ``POST /users/bulk/roles``' codes for the same users (the job
    first; every row here fails, so the endpoint then sees the same state); the codes seen."""
    data = {"user_ids": user_ids, "role_id": role_id, "action": action}
    created = create_job(acme, {"type": "bulk_role_assignment", "data": data})
    pump.pump()
    finished(acme, created["id"])
    by_job = {e["index"]: e["error"]["code"] for e in errors(acme, created["id"])}
    answer = acme.api.post("/users/bulk/roles", token=acme.access, json_body=data)
    assert answer.status == 200, answer.body
    by_endpoint = {i: r["error"]["code"] for i, r in enumerate(answer.json()["results"]) if r["status"] == "error"}
    assert by_job == by_endpoint
    assert len(by_job) == len(user_ids)
    return set(by_job.values())


def test_role_assignment_rows_answer_the_bulk_endpoints_codes(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    holder = acme.user("holder@example.com", "Holder", send_welcome_email=False)
    archived = acme.user("gone@example.com", "Gone", send_welcome_email=False)
    assert (
        acme.api.post(f"/users/{holder['id']}/roles", token=acme.access, json_body={"role_id": "viewer"}).status == 201
    )
    assert acme.api.delete(f"/users/{archived['id']}", token=acme.access).status in (200, 204)
    suspended = acme.user("paused@example.com", "Paused", send_welcome_email=False)
    assert acme.api.post(f"/users/{suspended['id']}/deactivate", token=acme.access, json_body={}).status == 200
    missing = "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    # assign: already assigned (holder), archived, suspended, no such user, not a user id
    seen = role_rows_against_the_endpoint(
        acme, pump, "assign", [holder["id"], archived["id"], suspended["id"], missing, "nobody"]
    )
    fresh = acme.user("fresh@example.com", "Fresh", send_welcome_email=False)
    # remove: not assigned (fresh), archived, no such user
    seen |= role_rows_against_the_endpoint(acme, pump, "remove", [fresh["id"], archived["id"], missing])
    # remove the admin role from the organization's only active admin: the last-admin rule
    admin = acme.user("only-admin@example.com", "Only Admin", role="admin", send_welcome_email=False)
    assert acme.api.post(f"/users/{admin['id']}/activate", token=acme.access).status == 200
    seen |= role_rows_against_the_endpoint(acme, pump, "remove", [admin["id"]], role_id="admin")
    expected = {"already_assigned", "user_archived", "user_suspended", "user_not_found", "not_assigned"}
    assert seen == expected | {"data_consistency_violation"}


def test_role_assignment_row_codes_are_the_endpoints_by_name(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    holder = acme.user("holder@example.com", "Holder", send_welcome_email=False)
    acme.api.post(f"/users/{holder['id']}/roles", token=acme.access, json_body={"role_id": "viewer"})
    missing = "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    created = create_job(
        acme,
        {
            "type": "bulk_role_assignment",
            "data": {"user_ids": [missing, holder["id"]], "role_id": "viewer", "action": "assign"},
        },
    )
    pump.pump()
    assert [e["error"]["code"] for e in errors(acme, created["id"])] == ["user_not_found", "already_assigned"]


def test_create_rows_answer_the_bulk_create_endpoints_codes(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    acme.user("taken@example.com", "Taken", send_welcome_email=False)
    users = [
        {"email": "not-an-email", "name": "Bad"},
        {"email": "taken@example.com", "name": "Taken Again", "send_welcome_email": False},
        {"email": "norole@example.com", "name": "No Role", "role": "nosuchrole", "send_welcome_email": False},
        {"email": "extra@example.com", "name": "Extra", "shoe_size": 42},
    ]
    created = create_job(acme, {"type": "bulk_user_create", "data": {"users": users}})
    pump.pump()
    by_job = {e["index"]: e["error"]["code"] for e in errors(acme, created["id"])}
    answer = acme.api.post("/users/bulk", token=acme.access, json_body={"users": users})
    by_endpoint = {r["index"]: r["error"]["code"] for r in answer.json()["results"] if r["status"] == "error"}
    assert by_job == by_endpoint
    assert len(by_job) == 4


def test_update_rows_answer_the_patch_endpoints_codes(api: InProcessApi, acme: Tenant, pump: JobPump) -> None:
    one = acme.user("one@example.com", "One", send_welcome_email=False)
    acme.user("two@example.com", "Two", send_welcome_email=False)
    missing = "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    gone = acme.user("gone@example.com", "Gone", send_welcome_email=False)
    assert acme.api.delete(f"/users/{gone['id']}", token=acme.access).status in (200, 204)
    admin = acme.user("only-admin@example.com", "Only Admin", role="admin", send_welcome_email=False)
    assert acme.api.post(f"/users/{admin['id']}/activate", token=acme.access).status == 200
    updates = [
        {"id": missing, "name": "Nobody"},
        {"id": one["id"], "email": "two@example.com"},
        {"id": one["id"], "phone": "not a phone"},
        {"id": one["id"], "status": "archived"},
        {"id": gone["id"], "name": "Back"},
        {"id": admin["id"], "status": "suspended"},  # the organization's only active admin
    ]
    created = create_job(acme, {"type": "bulk_user_update", "data": {"updates": updates}})
    pump.pump()
    by_job = {e["index"]: e["error"]["code"] for e in errors(acme, created["id"])}
    by_endpoint = {}
    for index, update in enumerate(updates):
        patch = {k: v for k, v in update.items() if k != "id"}
        answer = acme.patch(update["id"], patch)
        by_endpoint[index] = answer.json()["error"]["code"]
    assert by_job == by_endpoint
    assert set(by_job.values()) == {"not_found", "conflict", "validation_error", "gone", "data_consistency_violation"}
