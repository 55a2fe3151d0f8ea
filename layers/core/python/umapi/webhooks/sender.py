"""One webhook POST, safely: the URL is checked again now, the connection goes to an address
that was checked (no second DNS answer), redirects are never followed, the whole exchange
has a deadline, and at most ``MAX_BODY_BYTES`` of the answer are read."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from typing import NamedTuple

from umapi.webhooks.urls import Target, UnsafeUrlError, parse, resolve

MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "umapi-webhooks/1.0"


class PostResult(NamedTuple):
    status_code: int | None
    response_time_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback: bool) -> PostResult:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = resolve(parse(url, allow_loopback=allow_loopback))
    except UnsafeUrlError as exc:
        return PostResult(None, elapsed(), f"refused: {exc}")
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, target.addresses[0], timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        deadline = started + timeout
        read = 0
        while read < MAX_BODY_BYTES and time.monotonic() < deadline:
            chunk = response.read1(min(8192, MAX_BODY_BYTES - read))
            if not chunk:
                break
            read += len(chunk)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        kind = "timeout" if isinstance(exc, TimeoutError | socket.timeout) else "connection error"
        return PostResult(None, elapsed(), f"{kind}: {exc.__class__.__name__}")
    finally:
        connection.close()
    if 200 <= status < 300:
        return PostResult(status, elapsed(), None)
    reason = "redirect not followed" if 300 <= status < 400 else (response.reason or "error")
    return PostResult(status, elapsed(), f"HTTP {status} {reason}".strip())
