"""Webhook events, written to the outbox in the same transaction as the change (docs/api.md §7).

The table's stream carries each new event to the fan-out function; nothing is sent from the
request path, so a change and its event are never separated.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from umapi.audit import RequestMeta
from umapi.ids import new_id
from umapi.time import utc_now_iso

API_VERSION = "v1"


class Event(NamedTuple):
    org_id: str
    type: str
    data: dict[str, Any]
    meta: RequestMeta
    actor_id: str | None
    id: str
    webhook_id: str | None  # a test event goes to this subscription only
    created_at: str

    @classmethod
    def new(
        cls,
        org_id: str,
        type: str,
        data: dict[str, Any],
        meta: RequestMeta,
        actor_id: str | None,
        webhook_id: str | None = None,
    ) -> Event:
        """An event of a change made now, with an id of its own."""
        return cls(org_id, type, data, meta, actor_id, new_id("evt"), webhook_id, utc_now_iso())

    def envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "created_at": self.created_at,
            "org_id": self.org_id,
            "data": self.data,
            "metadata": {
                "ip_address": self.meta.ip,
                "user_agent": self.meta.user_agent,
                "api_version": API_VERSION,
                "actor_id": self.actor_id,
                "request_id": self.meta.request_id,
            },
        }
