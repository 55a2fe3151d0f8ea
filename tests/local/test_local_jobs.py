"""Jobs on the local runtime (docs/api.md §9, §10), over HTTP as a client drives them: a presigned
upload with ``curl -T`` to the local moto server, S3's notification and the job queue run by
the runtime's pollers, the planner and worker functions in their own processes."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from devserver.runtime import LocalRuntime
from tests.support.http import admin_headers, client_token, new_client, new_org
from umapi.access.permissions import PERMISSIONS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def manager(local_api: LocalRuntime) -> dict[str, str]:
    headers = admin_headers(local_api)
    org = new_org(local_api, headers, "Jobs Inc")
    client = new_client(
        local_api,
        headers,
        org,
        name="importer",
        grant_types=["client_credentials"],
        scopes=list(PERMISSIONS),
        rate_limit_per_minute=100_000,
    )
    return {"Authorization": f"Bearer {client_token(local_api.url, client['id'], client['client_secret'])}"}


def wait_for(local_api: LocalRuntime, headers: dict[str, str], job_id: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = requests.get(f"{local_api.url}/jobs/{job_id}", headers=headers, timeout=30).json()
        if job["status"] not in ("awaiting_upload", "queued", "processing"):
            return dict(job)
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_a_csv_uploaded_with_curl_is_imported_and_a_rerun_conflicts(
    local_api: LocalRuntime, manager: dict[str, str], tmp_path: Path
) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text(
        "email,name,department,send_welcome_email\n"
        + "".join(f"curl{i}@example.com,Curl {i},Sales,false\n" for i in range(40))
    )
    results = []
    for _ in range(2):
        answer = requests.post(
            f"{local_api.url}/jobs",
            json={"type": "bulk_user_create", "upload": {"content_type": "text/csv"}},
            headers=manager,
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        created = answer.json()
        assert created["upload_url"].startswith(local_api.backend.endpoint_url)
        curl = shutil.which("curl")
        assert curl, "curl is needed for this test"
        subprocess.run([curl, "-sf", "-T", str(csv), created["upload_url"]], check=True, timeout=60)  # noqa: S603
        results.append(wait_for(local_api, manager, created["id"]))
    first, again = results
    assert (first["status"], first["total"], first["successful"], first["failed"]) == ("completed", 40, 40, 0)
    assert (again["status"], again["successful"], again["failed"]) == ("completed", 0, 40)
    errors = requests.get(
        f"{local_api.url}/jobs/{again['id']}/errors", params={"limit": "25"}, headers=manager, timeout=30
    ).json()
    assert {entry["error"]["code"] for entry in errors["data"]} == {"conflict"}
    assert errors["pagination"]["has_more"] is True
    users = requests.get(
        f"{local_api.url}/users", params={"department": "Sales", "limit": "25"}, headers=manager, timeout=30
    ).json()
    assert len(users["data"]) == 25
    assert users["pagination"]["has_more"] is True


def test_an_export_result_downloads_from_its_presigned_url(local_api: LocalRuntime, manager: dict[str, str]) -> None:
    answer = requests.post(
        f"{local_api.url}/jobs",
        json={"type": "user_export", "data": {"format": "csv", "department": "Sales"}},
        headers=manager,
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    done = wait_for(local_api, manager, answer.json()["id"])
    assert done["status"] == "completed"
    download = requests.get(done["result_url"], timeout=30)
    assert download.status_code == 200
    lines = download.text.splitlines()
    assert lines[0].startswith("id,org_id,email,name,roles,")
    assert len(lines) == 1 + done["total"]
