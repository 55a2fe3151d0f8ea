"""Opaque, tamper-evident cursors for every list endpoint.

A cursor is the DynamoDB key to resume after, bound to the listing it came from (the
organization, the index and the filters) and signed with HMAC-SHA256. An edited, truncated or
foreign cursor is a 400 ``validation_error`` on the ``cursor`` field, never a 500 and never a
way into another listing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from umapi.errors import ErrorDetail, ValidationError

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class PaginationInfo(BaseModel):
    limit: int
    has_more: bool
    next_cursor: str | None


class Page(BaseModel, Generic[T]):
    data: list[T]
    pagination: PaginationInfo


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def encode(self, last_key: dict[str, Any], listing: str) -> str:
        payload = _b64(json.dumps({"k": last_key, "l": listing}, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._sign(payload)}"

    def decode(self, cursor: str, listing: str) -> dict[str, Any]:
        payload, _, signature = cursor.partition(".")
        try:
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise ValueError("bad signature")
            decoded = json.loads(_unb64(payload))
            if decoded.get("l") != listing or not isinstance(decoded.get("k"), dict):
                raise ValueError("cursor of another listing")
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                "The cursor is not valid for this listing; start again without it.",
                details=[ErrorDetail("cursor", "Malformed, altered or from another listing.", "invalid_cursor")],
            ) from exc
        return dict(decoded["k"])

    def page_info(self, limit: int, next_key: dict[str, Any] | None, listing: str) -> PaginationInfo:
        return PaginationInfo(
            limit=limit,
            has_more=next_key is not None,
            next_cursor=self.encode(next_key, listing) if next_key is not None else None,
        )

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
