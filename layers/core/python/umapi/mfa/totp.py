"""TOTP (RFC 6238) as docs/api.md §11 fixes it: SHA-1, 6 digits, 30-second steps, one step of
drift either way. Pure: no storage, no clock of its own (``now`` is passed). ``pyotp`` is
imported when a code is first computed, not when the sign-in function starts."""

from __future__ import annotations

import hmac
import re
from urllib.parse import quote, urlencode

PERIOD = 30
DIGITS = 6
DRIFT_STEPS = 1
_CODE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    """160 random bits in base32 (RFC 4226 §4 recommends 160), as authenticator apps take them."""
    import pyotp

    return pyotp.random_base32(32)


def otpauth_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans (the Key Uri Format)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": PERIOD})
    return f"otpauth://totp/{label}?{query}"


def step_at(now: float) -> int:
    return int(now) // PERIOD


def code_at(secret: str, step: int) -> str:
    import pyotp

    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).generate_otp(step)


def is_code(text: str) -> bool:
    return bool(_CODE.match(text))


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step ``code`` belongs to (the current one, or one either side), or ``None``.
    Every candidate is compared in constant time, so timing says nothing of which matched."""
    if not is_code(code):
        return None
    current = step_at(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), code) and found is None:
            found = step
    return found
