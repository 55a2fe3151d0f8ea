"""Opaque, tamper-evident cursors for every list endpoint.

A cursor is the DynamoDB key to resume after, bound to the listing it came from (the
organization, the index and the filters) and sealed with AES-256-GCM. An edited, truncated or
foreign cursor is a 400 ``validation_error`` on the ``cursor`` field, never a 500 and never a
way into another listing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from umapi.api_model import ApiModel
from umapi.errors import ErrorDetail, ValidationError

if TYPE_CHECKING:
    from umapi.sealing import Sealer

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class PaginationInfo(ApiModel):
    limit: int
    has_more: bool
    next_cursor: str | None


class Page(ApiModel, Generic[T]):
    data: list[T]
    pagination: PaginationInfo


class CursorCodec:
    """A cursor is the DynamoDB key to resume after, sealed (AES-256-GCM) with the listing it
    belongs to as associated data: it reveals nothing (no keys, no search term), and an edited,
    truncated or foreign cursor does not open."""

    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer

    def encode(self, last_key: dict[str, Any], listing: str) -> str:
        payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
        return self._sealer.seal("cursor", payload, listing)

    def decode(self, cursor: str, listing: str) -> dict[str, Any]:
        try:
            decoded = json.loads(self._sealer.open("cursor", cursor, listing))
            if not isinstance(decoded, dict):
                raise ValueError("not a key")
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                "The cursor is not valid for this listing; start again without it.",
                details=[ErrorDetail("cursor", "Malformed, altered or from another listing.", "invalid_cursor")],
            ) from exc
        return decoded

    def page_info(self, limit: int, next_key: dict[str, Any] | None, listing: str) -> PaginationInfo:
        return PaginationInfo(
            limit=limit,
            has_more=next_key is not None,
            next_cursor=self.encode(next_key, listing) if next_key is not None else None,
        )
