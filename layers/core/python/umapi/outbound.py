"""Outgoing HTTP, safely: webhook deliveries, job callbacks and calls to organizations' identity
providers (discovery, keys, tokens; docs/api.md §12) all go through ``request``.

The URL is checked (``umapi.safe_urls``) and resolved now, and the connection goes to an
address that was checked (no second DNS answer, so DNS rebinding gains nothing); redirects are
never followed; every socket operation has the timeout and the whole answer a deadline; at most
``max_bytes`` of the answer are read. Failures are ``OutboundError`` with a message that is
safe to show and to store: it names what went wrong, never what came back.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from typing import NamedTuple

from umapi.safe_urls import Target, UnsafeUrlError, parse, resolve


class OutboundError(Exception):
    """The request was refused before it left, timed out, or failed; ``elapsed_ms`` until then."""

    def __init__(self, message: str, elapsed_ms: int) -> None:
        super().__init__(message)
        self.message = message
        self.elapsed_ms = elapsed_ms


class Answer(NamedTuple):
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    complete: bool  # False: the answer was longer than max_bytes (or its deadline passed)
    elapsed_ms: int


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


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    allow_loopback: bool,
    max_bytes: int,
) -> Answer:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = resolve(parse(url, allow_loopback=allow_loopback))
    except UnsafeUrlError as exc:
        raise OutboundError(f"refused: {exc}", elapsed()) from exc
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, target.addresses[0], timeout)
    try:
        connection.request(method, target.path, body=body, headers=headers or {})
        response = connection.getresponse()
        deadline = started + timeout
        chunks: list[bytes] = []
        read = 0
        complete = False
        while read <= max_bytes and time.monotonic() < deadline:
            chunk = response.read1(min(8192, max_bytes + 1 - read))
            if not chunk:
                complete = True
                break
            chunks.append(chunk)
            read += len(chunk)
        answer = Answer(
            response.status,
            response.reason or "",
            {name.lower(): value for name, value in response.getheaders()},
            b"".join(chunks)[:max_bytes],
            complete and read <= max_bytes,
            elapsed(),
        )
    except (OSError, http.client.HTTPException) as exc:
        kind = "timeout" if isinstance(exc, TimeoutError | socket.timeout) else "connection error"
        raise OutboundError(f"{kind}: {exc.__class__.__name__}", elapsed()) from exc
    finally:
        connection.close()
    return answer
