"""The repository explains itself: no tracked file points at documents outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\.\./shared/|CONTRACT\.md|\]\(https?://")
TEXT = {".md", ".py", ".yaml", ".yml", ".toml", ".json", ".sh", ".txt", ""}


def test_no_tracked_file_points_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"],  # noqa: S607 - git from PATH, fixed arguments
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    pointing = [
        f"{name}:{number}"
        for name in tracked
        if Path(name).suffix in TEXT and Path(name).name != Path(__file__).name
        for number, line in enumerate((ROOT / name).read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert pointing == []
