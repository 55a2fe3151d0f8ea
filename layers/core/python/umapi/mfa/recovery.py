"""Recovery codes (docs/api.md §11): ten single-use codes of 50 random bits, shown once and
stored as keyed hashes (HMAC with a key derived from the service's data key, bound to the user),
so a copy of the table alone cannot be searched for them. Pure but for the hash's key."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from umapi.sealing import Sealer

COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read back from paper
_GROUP = 5
_PURPOSE = "mfa-recovery-code"
_SHAPE = re.compile(rf"^[{_ALPHABET}]{{{2 * _GROUP}}}$")


def new_codes() -> list[str]:
    """Ten codes such as ``k7rmq-2xw9d`` (two groups of 5 characters of a 31-letter alphabet: 49.5 bits)."""
    return ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP)) for _ in range(2)) for _ in range(COUNT)]


def normalized(text: str) -> str | None:
    """The code as stored (lower case, no spaces or dashes), or ``None`` if it cannot be one."""
    compact = re.sub(r"[\s-]", "", text[:64]).lower()
    return compact if _SHAPE.match(compact) else None


def code_hash(sealer: Sealer, user_id: str, code: str) -> str:
    """The stored form of a code: a keyed hash of its normalized form (as shown or as typed)."""
    return sealer.mac(_PURPOSE, f"{user_id}:{normalized(code) or code}")
