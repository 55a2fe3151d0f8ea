"""What a user's token may carry: the user's permissions, capped by the client's scopes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from umapi.clients.entities import Client


def user_token_scope(granted: Mapping[str, Any] | frozenset[str], client: Client) -> frozenset[str]:
    """What a user token issued through ``client`` may carry: the user's permissions, capped by
    the scopes registered on the client (docs/api.md §2)."""
    return frozenset(granted) & frozenset(client.scopes)
