"""Organizations: the domain entity, a plain record."""

from __future__ import annotations

from typing import NamedTuple


class Organization(NamedTuple):
    id: str
    name: str
    created_at: str
    updated_at: str
