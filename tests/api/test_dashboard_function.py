"""The dashboard function (docs/dashboard.md): the page with a strict Content-Security-Policy
and its files' base at this deployment, the built files, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.api import InProcessApi

SITE = Path(__file__).resolve().parents[2] / "functions" / "dashboard" / "site"


@pytest.fixture(scope="module")
def built() -> list[str]:
    if not (SITE / "index.html").is_file():
        pytest.fail(
            "The dashboard is not built: run make install (it builds dashboard/ into functions/dashboard/site)."
        )
    return sorted(p.name for p in SITE.iterdir() if p.suffix in (".js", ".css"))


def test_the_page_is_served_with_a_strict_policy(api: InProcessApi, built: list[str]) -> None:
    page = api.get("/dashboard")
    assert page.status == 200
    assert (page.header("Content-Type") or "").startswith("text/html")
    policy = page.header("Content-Security-Policy") or ""
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.header("Cache-Control") == "no-cache"
    assert "<base href='http://127.0.0.1:3000/dashboard/'>" in page.body
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.body), "no inline script"
    assert not re.search(r"https?://(?!127\.0\.0\.1)", page.body.replace("http://127.0.0.1:3000", "")), "no CDN"
    for name in built:
        assert f"./{name}" in page.body


def test_the_files_are_served_immutable_and_nothing_else(api: InProcessApi, built: list[str]) -> None:
    for name in built:
        answer = api.get(f"/dashboard/{name}")
        assert answer.status == 200
        assert answer.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert answer.header("X-Content-Type-Options") == "nosniff"
        expected = "text/javascript" if name.endswith(".js") else "text/css"
        assert (answer.header("Content-Type") or "").startswith(expected)
    for missing in ("index.html.bak", "..%2Fhandler.py", "handler.py", ".built", "nothing.js"):
        answer = api.get(f"/dashboard/{missing}")
        assert answer.status == 404, missing
        assert answer.error["code"] == "not_found"
