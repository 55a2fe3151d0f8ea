"""scripts/admin.py against moto: bootstrap once, rotate keys without breaking issued tokens."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.support.api import InProcessApi
from tests.support.flows import token
from tests.support.scripts import load_script


@pytest.fixture
def admin_script() -> ModuleType:
    return load_script("admin")


@pytest.fixture
def stack_args(aws: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("SIGNING_KEYS_SECRET", aws["SigningKeysSecret"]["Ref"])
    monkeypatch.setenv("CURSOR_SECRET", aws["CursorSecret"]["Ref"])
    return ["--table", "Table", "--signing-secret", aws["SigningKeysSecret"]["Ref"], "--region", "us-east-1"]


def run(script: ModuleType, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = script.main(args, session=boto3.session.Session(region_name="us-east-1"))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def credentials(output: str) -> tuple[str, str]:
    lines = dict(line.split(":", 1) for line in output.splitlines() if line.startswith("client_"))
    return lines["client_id"].strip(), lines["client_secret"].strip()


def test_bootstrap_prints_a_working_admin_once(
    admin_script: ModuleType, stack_args: list[str], api: InProcessApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(admin_script, [*stack_args, "bootstrap"], capsys)
    assert code == 0
    client_id, secret = credentials(out)
    access = token(api, client_id, secret)
    assert api.get("/orgs", token=access).status == 200  # platform admin

    again, _, err = run(admin_script, [*stack_args, "bootstrap"], capsys)
    assert again == 1
    assert "--force" in err
    forced, out, _ = run(admin_script, [*stack_args, "bootstrap", "--force"], capsys)
    assert forced == 0
    assert credentials(out)[0] != client_id


def test_rotation_keeps_earlier_tokens_valid(
    admin_script: ModuleType, stack_args: list[str], api: InProcessApi, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(admin_script, [*stack_args, "bootstrap"], capsys)
    client_id, secret = credentials(out)
    before = token(api, client_id, secret)

    code, out, _ = run(admin_script, [*stack_args, "rotate-signing-key"], capsys)
    assert code == 0
    from umapi import services

    services.reset()  # a new container: caches re-read the rotated ring
    after = token(api, client_id, secret)
    jwks = api.get("/.well-known/jwks.json").json()
    assert len(jwks["keys"]) == 2
    assert api.get("/orgs", token=before).status == 200
    assert api.get("/orgs", token=after).status == 200


def test_missing_names_are_a_usage_error(admin_script: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(admin_script, ["bootstrap"], capsys)
    assert code == 2
    assert "--stack-name" in err


def test_help_describes_every_command(admin_script: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        admin_script.main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "bootstrap" in shown
    assert "rotate-signing-key" in shown
