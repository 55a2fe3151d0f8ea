"""How a running local runtime can be found by the repository's own tools (``scripts/admin.py
--local``): ``.devserver/<port>.json`` in the checkout, written once it serves and removed when
it stops. It names the API, moto's endpoint and the resources an operator command needs; it
holds no secret (moto's credentials are the fixed local ones)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devserver.runtime import LocalRuntime

DIRECTORY = ".devserver"


def state_path(root: Path, port: int) -> Path:
    return root / DIRECTORY / f"{port}.json"


def port_of(runtime: LocalRuntime) -> int:
    return int(runtime.url.rsplit(":", 1)[1])


def announce(runtime: LocalRuntime) -> Path:
    """Write the state of ``runtime`` (started): its API, moto's endpoint, the table and the
    signing-key secret."""
    attributes = runtime.intrinsics.attributes
    values = {
        "url": runtime.url,
        "endpoint_url": runtime.backend.endpoint_url,
        "region": runtime.config.region,
        "table": attributes["Table"]["Ref"],
        "signing_secret": attributes["SigningKeysSecret"]["Ref"],
    }
    return write(runtime.root, port_of(runtime), values)


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
