"""Where ``umapi`` keeps its session: one JSON file, readable by its owner only."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_API_URL = "http://127.0.0.1:3000"  # make dev


def config_dir() -> Path:
    if explicit := os.environ.get("UMAPI_CONFIG_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "umapi"


def session_file() -> Path:
    return config_dir() / "session.json"


@dataclass(frozen=True)
class Session:
    """What ``umapi login`` obtained: never the client secret."""

    api_url: str
    client_id: str
    org_id: str | None
    scope: str
    access_token: str
    expires_at: int  # unix seconds

    def public(self) -> dict[str, object]:
        """The session without its token, for display."""
        shown = asdict(self)
        del shown["access_token"]
        return shown


def save(session: Session) -> Path:
    """Write the session atomically: the directory 0700, the file 0600 from the moment it exists."""
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".session-", suffix=".json")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(asdict(session), out, indent=2)
        os.replace(temporary, session_file())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return session_file()


def load() -> Session | None:
    try:
        values = json.loads(session_file().read_text(encoding="utf-8"))
        return Session(**values)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None


def forget() -> bool:
    """Remove the cached session; whether there was one."""
    try:
        session_file().unlink()
    except FileNotFoundError:
        return False
    return True
