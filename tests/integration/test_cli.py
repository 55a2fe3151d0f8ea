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


@pytest.mark.parametrize("command", [[], ["login"], ["logout"]])
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
