"""Organizations: the domain entity, a plain dataclass."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    created_at: str
    updated_at: str
