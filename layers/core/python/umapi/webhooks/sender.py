"""One webhook POST, safely (``umapi.outbound``): the URL is checked again now, the connection
goes to an address that was checked (no second DNS answer), redirects are never followed, the
whole exchange has a deadline, and at most ``MAX_BODY_BYTES`` of the answer are read."""

from __future__ import annotations

from typing import NamedTuple

from umapi.outbound import OutboundError, request

MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "umapi-webhooks/1.0"


class PostResult(NamedTuple):
    status_code: int | None
    response_time_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback: bool) -> PostResult:
    try:
        answer = request(
            "POST",
            url,
            body=body,
            headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
            timeout=timeout,
            allow_loopback=allow_loopback,
            max_bytes=MAX_BODY_BYTES,
        )
    except OutboundError as failure:
        return PostResult(None, failure.elapsed_ms, failure.message)
    status = answer.status
    if 200 <= status < 300:
        return PostResult(status, answer.elapsed_ms, None)
    reason = "redirect not followed" if 300 <= status < 400 else (answer.reason or "error")
    return PostResult(status, answer.elapsed_ms, f"HTTP {status} {reason}".strip())
