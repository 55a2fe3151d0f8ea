"""How a running local runtime can be found by the repository's own tools (``scripts/admin.py
--local``): ``.devserver/<port>.json`` in the checkout, written once it serves and removed when
it stops. It names the API, moto's endpoint and the resources an operator command needs; it
holds no secret (moto's credentials are the fixed local ones)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

DIRECTORY = ".devserver"


def state_path(root: Path, port: int) -> Path:
    return root / DIRECTORY / f"{port}.json"


def write(root: Path, port: int, values: dict[str, Any]) -> Path:
    path = state_path(root, port)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({**values, "pid": os.getpid()}, indent=2) + "\n")
    return path


def remove(root: Path, port: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        state_path(root, port).unlink()


def read(root: Path, port: int) -> dict[str, Any] | None:
    """The state of the runtime serving ``port``, or ``None`` if none runs there."""
    try:
        values: dict[str, Any] = json.loads(state_path(root, port).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    try:
        os.kill(int(values["pid"]), 0)  # still running?
    except (ProcessLookupError, KeyError, ValueError):
        return None
    except PermissionError:
        pass  # runs, as another user
    return values
