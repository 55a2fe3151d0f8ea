"""The README's "A first session" block works as written, against the local runtime."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devserver.runtime import LocalRuntime, LocalRuntimeConfig

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SECRET = "dev-secret-please-change"


def first_session_blocks() -> tuple[str, str]:
    """The first session's block, and the first sign-in's (after the browser)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### A first session", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "the README lost its first-session or first-sign-in block"
    return blocks[0], blocks[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_runtime(port: int) -> LocalRuntime:
    """The local runtime with the README's admin secret, as `make dev` starts it."""
    before = os.environ.get("LOCAL_ADMIN_CLIENT_SECRET")
    os.environ["LOCAL_ADMIN_CLIENT_SECRET"] = SECRET
    try:
        runtime = LocalRuntime(LocalRuntimeConfig(template_path=ROOT / "template.yaml", port=port))
        runtime.start()
    finally:
        if before is None:
            os.environ.pop("LOCAL_ADMIN_CLIENT_SECRET", None)
        else:
            os.environ["LOCAL_ADMIN_CLIENT_SECRET"] = before
    return runtime


def browser_sign_in(url: str, email: str, password: str) -> str:
    """What a person does with the printed URL: open the form, sign in; the code the browser
    is sent to the callback with."""
    with requests.Session() as browser:
        form = browser.get(url, timeout=30)
        assert form.status_code == 200, form.text
        fields = dict(re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", form.text))
        fields = {html.unescape(k): html.unescape(v) for k, v in fields.items()}
        signed_in = browser.post(
            url.split("?", 1)[0],
            data={**fields, "email": email, "password": password},
            allow_redirects=False,
            timeout=30,
        )
    assert signed_in.status_code == 302, signed_in.text
    location = signed_in.headers["Location"]
    assert location.startswith("http://127.0.0.1:8400/callback?")
    return parse_qs(urlsplit(location).query)["code"][0]


def test_the_first_session_and_sign_in_blocks_run_verbatim() -> None:
    session_block, sign_in_block = first_session_blocks()
    assert "make dev &" in session_block
    assert SECRET in session_block
    assert "127.0.0.1:3000" not in session_block + sign_in_block  # ${PORT:-3000}, as make dev
    port = free_port()
    # Everything is the block as written, except that `make dev &` is this test starting the
    # runtime a few seconds *after* the block began (as a fresh clone's install delays it), and
    # that the session's variables are kept for the sign-in block.
    script = session_block.replace("make dev &", ":") + '\ndeclare -p API APP APP_SECRET > "$STATE"\n'
    bash = shutil.which("bash") or "/bin/bash"
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state.sh"
        environment = {**os.environ, "PORT": str(port), "STATE": str(state)}
        session = subprocess.Popen(  # noqa: S603 - the README's own block
            [bash, "-euo", "pipefail", "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        time.sleep(3)
        runtime = start_runtime(port)
        try:
            out, err = session.communicate(timeout=180)
            assert session.returncode == 0, err
            assert '"client_secret"' in out, out
            assert '"scopes":["users:read"]' in out.replace(" ", "")
            assert '"active"' in out  # the first user, verified
            url = re.search(r"Sign in at: (\S+)", out)
            assert url, out
            code = browser_sign_in(url.group(1), "ada@example.com", "Analytical-Engine-1843")
            signing = f"source {state}\n" + sign_in_block.replace("CODE=paste-the-code-here", f"CODE={code}")
            signed = subprocess.run(  # noqa: S603 - the README's own block
                [bash, "-euo", "pipefail", "-c", signing], capture_output=True, text=True, timeout=60, check=False
            )
        finally:
            runtime.stop()
    assert signed.returncode == 0, signed.stderr
    me = json.loads(signed.stdout)
    assert (me["email"], me["status"]) == ("ada@example.com", "active")
    assert me["last_login"] is not None
