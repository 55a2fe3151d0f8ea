"""The ``umapi`` command against the local runtime: login caches a token only its owner can
read (never the secret), refusals and unreachable APIs exit with their own codes, and every
command answers --help from the installed console script."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from devserver.runtime import LocalRuntime
from umapi_cli.main import main

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "umapi-config"
    monkeypatch.setenv("UMAPI_CONFIG_DIR", str(directory))
    for name in ("UMAPI_API_URL", "UMAPI_CLIENT_ID", "UMAPI_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return directory


def test_login_caches_a_working_token_readable_by_its_owner_only(
    local_api: LocalRuntime, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert local_api.admin is not None
    monkeypatch.setenv("UMAPI_CLIENT_SECRET", local_api.admin.client_secret)
    code = main(["--json", "login", "--api-url", local_api.url, "--client-id", local_api.admin.client_id])
    out = capsys.readouterr().out
    assert code == 0, out
    shown = json.loads(out)
    assert shown["client_id"] == local_api.admin.client_id
    assert shown["org_id"] == local_api.admin.org_id
    assert local_api.admin.client_secret not in out
    assert "access_token" not in shown

    session = config_dir / "session.json"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    cached = json.loads(session.read_text())
    assert local_api.admin.client_secret not in session.read_text()
    answer = requests.get(
        f"{local_api.url}/orgs/{local_api.admin.org_id}",
        headers={"Authorization": f"Bearer {cached['access_token']}"},
        timeout=30,
    )
    assert answer.status_code == 200

    assert main(["logout"]) == 0
    assert not session.exists()
    assert main(["logout"]) == 0  # nothing to remove is not an error
    assert "Not logged in" in capsys.readouterr().out


def test_the_secret_can_come_from_stdin(
    local_api: LocalRuntime, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert local_api.admin is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO(local_api.admin.client_secret + "\n"))
    args = ["login", "--api-url", local_api.url, "--client-id", local_api.admin.client_id, "--client-secret-stdin"]
    assert main(args) == 0
    assert (config_dir / "session.json").exists()


def test_refused_credentials_exit_3_and_cache_nothing(
    local_api: LocalRuntime, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert local_api.admin is not None
    monkeypatch.setenv("UMAPI_CLIENT_SECRET", "not-the-secret")
    code = main(["--json", "login", "--api-url", local_api.url, "--client-id", local_api.admin.client_id])
    assert code == 3
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "invalid_client"
    assert not (config_dir / "session.json").exists()


def test_an_unreachable_api_exits_4_and_a_missing_secret_is_a_usage_error(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UMAPI_CLIENT_SECRET", "whatever")
    assert main(["login", "--api-url", "http://127.0.0.1:9", "--client-id", "cli_x"]) == 4
    assert "Cannot reach http://127.0.0.1:9" in capsys.readouterr().err
    monkeypatch.delenv("UMAPI_CLIENT_SECRET")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: nothing to ask
    assert main(["login", "--api-url", "http://127.0.0.1:9", "--client-id", "cli_x"]) == 2
    assert "No client secret" in capsys.readouterr().err


COMMANDS = [
    [],
    ["login"],
    ["logout"],
    ["users"],
    ["users", "import"],
    ["users", "export"],
    ["jobs"],
    *(["jobs", action] for action in ("list", "show", "watch", "cancel", "errors")),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_the_installed_command_answers_help(command: list[str]) -> None:
    umapi = Path(sys.executable).parent / "umapi"
    assert umapi.exists(), "make install puts the console script into .venv/bin"
    shown = subprocess.run([str(umapi), *command, "--help"], capture_output=True, text=True, check=True)  # noqa: S603
    assert shown.stdout.startswith("usage: umapi")


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["no-such-command"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# ---------------------------------------------------------------------- jobs
@pytest.fixture
def logged_in(local_api: LocalRuntime, config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session of a client of a new organization, holding every permission."""
    from tests.support.http import admin_headers, new_client, new_org
    from umapi.access.permissions import PERMISSIONS

    headers = admin_headers(local_api)
    org = new_org(local_api, headers, "CLI Jobs")
    client = new_client(
        local_api, headers, org, name="cli", grant_types=["client_credentials"], scopes=list(PERMISSIONS)
    )
    monkeypatch.setenv("UMAPI_CLIENT_SECRET", client["client_secret"])
    assert main(["login", "--api-url", local_api.url, "--client-id", client["id"]]) == 0


def test_import_waits_with_a_progress_bar_and_says_what_failed(
    logged_in: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    good = tmp_path / "good.csv"
    good.write_text(
        "email,name,send_welcome_email\n" + "".join(f"cli{i}@example.com,Cli {i},false\n" for i in range(25))
    )
    assert main(["users", "import", str(good), "--wait"]) == 0
    shown = capsys.readouterr()
    assert "row/s" in shown.err  # the bar: rows, rate
    job_id = shown.out.split()[1]
    assert job_id.startswith("job_")
    assert f"Job {job_id}:" in shown.err  # the full id, when the job starts
    bar = [line for line in shown.err.replace("\r", "\n").splitlines() if "row/s" in line]
    assert all("<" not in line for line in bar)  # the server's ETA only, not tqdm's own estimate too
    assert "completed" in shown.out
    assert "25 succeeded, 0 failed" in shown.out

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"email": "cli0@example.com", "name": "Again", "send_welcome_email": false}\n{"email": "nope"}\n')
    assert main(["--json", "users", "import", str(bad), "--wait"]) == 5  # completed, some rows failed
    job = json.loads(capsys.readouterr().out)
    assert (job["status"], job["successful"], job["failed"]) == ("completed", 0, 2)

    assert main(["jobs", "errors", job["id"]]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("row 0: conflict")
    assert listed[1].startswith("row 1: validation_error")

    assert main(["--json", "jobs", "list", "--type", "bulk_user_create"]) == 0
    assert next(entry["id"] for entry in json.loads(capsys.readouterr().out)["data"]) == job["id"]
    assert main(["jobs", "show", job["id"]]) == 0
    assert job["id"] in capsys.readouterr().out
    assert main(["jobs", "cancel", job["id"]]) == 1  # finished: 409
    assert "409 conflict" in capsys.readouterr().err


def test_export_writes_the_file(logged_in: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "few.csv"
    source.write_text(
        "email,name,department,send_welcome_email\n" + "".join(f"x{i}@example.com,X {i},Ops,false\n" for i in range(5))
    )
    assert main(["--json", "users", "import", str(source)]) == 0  # without --wait: the job, at once
    started = json.loads(capsys.readouterr().out)
    assert started["status"] == "awaiting_upload"
    assert main(["jobs", "watch", started["id"]]) == 0
    assert "5 succeeded, 0 failed" in capsys.readouterr().out
    target = tmp_path / "out.csv"
    assert main(["users", "export", "--format", "csv", "--department", "Ops", "-o", str(target)]) == 0
    assert "Written to" in capsys.readouterr().out
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,org_id,email")
    assert len(lines) == 6


def test_an_unknown_file_type_is_a_usage_error(logged_in: None, tmp_path: Path) -> None:
    other = tmp_path / "users.xlsx"
    other.write_text("x")
    assert main(["users", "import", str(other)]) == 2


def test_json_and_org_id_come_before_or_after_the_command(
    local_api: LocalRuntime, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.http import admin_headers, client_token, new_client, new_org

    # Given a tenant organization with a job, and the platform admin logged in
    assert local_api.admin is not None
    headers = admin_headers(local_api)
    tenant = new_org(local_api, headers, "CLI Tenant")
    client = new_client(local_api, headers, tenant, name="t", grant_types=["client_credentials"], scopes=["users:read"])
    token = client_token(local_api.url, client["id"], client["client_secret"])
    job = requests.post(
        f"{local_api.url}/jobs",
        json={"type": "user_export", "data": {"format": "jsonl"}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    monkeypatch.setenv("UMAPI_CLIENT_SECRET", local_api.admin.client_secret)
    assert main(["login", "--api-url", local_api.url, "--client-id", local_api.admin.client_id]) == 0
    capsys.readouterr()
    # When the admin lists jobs with --json and --org-id after the command
    assert main(["jobs", "list", "--json", "--org-id", tenant]) == 0
    # Then the tenant's jobs are listed, as JSON
    assert job["id"] in [entry["id"] for entry in json.loads(capsys.readouterr().out)["data"]]
    assert main(["--json", "--org-id", tenant, "jobs", "show", job["id"]]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == job["id"]
    assert main(["--json", "jobs", "show", job["id"]]) == 1  # in the admin's own organization: 404
    capsys.readouterr()


def test_ctrl_c_while_watching_says_the_job_goes_on(
    logged_in: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from umapi_cli import jobs

    created = jobs.Client().call(
        "POST", "/jobs", json={"type": "bulk_user_create", "upload": {"content_type": "text/csv"}}
    )

    polls: list[str] = []
    poll = jobs.Client.job

    def interrupted_on_the_second_poll(client: jobs.Client, job_id: str) -> dict[str, Any]:
        polls.append(job_id)
        if len(polls) > 1:
            raise KeyboardInterrupt  # Ctrl-C while the bar waits
        return poll(client, job_id)

    monkeypatch.setattr(jobs.Client, "job", interrupted_on_the_second_poll)
    assert main(["jobs", "watch", created["id"]]) == 130
    said = capsys.readouterr().err
    assert f"Job {created['id']} goes on" in said
    assert f"umapi jobs cancel {created['id']}" in said
    assert "Traceback" not in said


def test_a_reader_that_goes_away_ends_the_command_quietly(logged_in: None, config_dir: Path) -> None:
    import os

    umapi = Path(sys.executable).parent / "umapi"
    environment = {**os.environ, "UMAPI_CONFIG_DIR": str(config_dir)}
    running = subprocess.Popen(  # noqa: S603
        [str(umapi), "jobs", "list", "--limit", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
    )
    assert running.stdout is not None
    running.stdout.close()  # `| head` that has read enough
    _, err = running.communicate(timeout=60)
    assert running.returncode == 141, err
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err
