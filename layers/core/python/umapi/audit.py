"""Audit entries, written in the same DynamoDB transaction as the change they record (docs/api.md §4).

An entry says who (actor), did what (action), to what (target), what changed, and from where
(request id, IP, user agent). It never holds a password, token or secret: ``changes`` is built
from allow-listed fields by the services.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from umapi.ids import new_id
from umapi.time import utc_now_iso

ActorType = Literal["client", "user", "system"]


class RequestMeta(NamedTuple):
    """Where a change came from; taken from the API request."""

    request_id: str
    ip: str | None = None
    user_agent: str | None = None
    job_id: str | None = None  # a change made by a row of a job (docs/api.md §10)


class Actor(NamedTuple):
    type: ActorType
    id: str


class AuditEntry(NamedTuple):
    org_id: str
    actor: Actor
    action: str
    target_type: str
    target_id: str
    meta: RequestMeta
    changes: dict[str, Any]
    id: str
    created_at: str

    @classmethod
    def new(
        cls,
        org_id: str,
        actor: Actor,
        action: str,
        target_type: str,
        target_id: str,
        meta: RequestMeta,
        changes: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """An entry of a change made now, with an id of its own."""
        return cls(org_id, actor, action, target_type, target_id, meta, changes or {}, new_id("aud"), utc_now_iso())


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{field: {"from": old, "to": new}}`` for the fields whose values differ."""
    return {
        name: {"from": before.get(name), "to": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
