"""Checking a second factor (docs/api.md §11): a TOTP code, a recovery code or a passkey's
signature becomes a ``Proof`` carrying the conditional write that spends it, to be committed in
the same transaction as whatever it proves (a sign-in, a factor's removal). Wrong answers count
against the account: five in 15 minutes and it waits (``RateLimitedError``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from umapi.db import Guarded
from umapi.errors import RateLimitedError, ValidationError
from umapi.mfa import recovery, totp
from umapi.mfa.store import FactorSet, MfaStore, StoredFactor, refused_code
from umapi.table_keys import mfa_failures_pk
from umapi.throttle import THROTTLE_WINDOW_SECONDS, AttemptThrottle, TooManyAttemptsError

if TYPE_CHECKING:
    from umapi.sealing import Sealer

MAX_FAILURES = 5
_TOTP_PURPOSE = "mfa-totp-secret"
AMR = {"otp": ("otp", "mfa"), "recovery": ("mfa",), "hwk": ("hwk", "mfa")}  # RFC 8176, after "pwd"


class Proof(NamedTuple):
    method: str  # "otp" | "recovery" | "hwk"
    factor_id: str | None  # the factor that answered (None: a recovery code)
    spend: Guarded  # the conditional write that spends it (single use)
    step: int | None = None  # TOTP: the time step of the code

    @property
    def amr(self) -> tuple[str, ...]:
        return AMR[self.method]


def too_many() -> RateLimitedError:
    return RateLimitedError(
        "Too many wrong codes for this account. Wait 15 minutes and try again.", retry_after=THROTTLE_WINDOW_SECONDS
    )


class SecondFactors:
    def __init__(
        self, store: MfaStore, sealer: Sealer, throttle: AttemptThrottle, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self._sealer = sealer
        self._throttle = throttle
        self._clock = clock

    # ------------------------------------------------------------------ TOTP secrets
    def seal(self, org_id: str, user_id: str, factor_id: str, secret: str) -> str:
        return self._sealer.seal(_TOTP_PURPOSE, secret.encode(), f"{org_id}/{user_id}/{factor_id}")

    def secret_of(self, org_id: str, user_id: str, factor: StoredFactor) -> str:
        return self._sealer.open(_TOTP_PURPOSE, factor.secret or "", f"{org_id}/{user_id}/{factor.id}").decode()

    def recovery_hash(self, user_id: str, code: str) -> str:
        return recovery.code_hash(self._sealer, user_id, code)

    def now(self) -> float:
        return self._clock()

    # ------------------------------------------------------------------ checks
    def check_code(self, org_id: str, user_id: str, factors: FactorSet, code: str) -> Proof | None:
        """A TOTP code of a confirmed factor (of a step later than its last accepted one), or an
        unused recovery code; ``None`` for anything else."""
        code = code.strip()
        if totp.is_code(code):
            for factor in factors.of_type("totp"):
                step = totp.matching_step(self.secret_of(org_id, user_id, factor), code, self._clock())
                if step is not None and step > factor.last_step:
                    return Proof("otp", factor.id, self.store.step_item(org_id, user_id, factor.id, step), step)
            return None
        compact = recovery.normalized(code)
        if compact is not None:
            hashed = self.recovery_hash(user_id, compact)
            if hashed in factors.recovery_hashes:
                return Proof("recovery", None, self.store.recovery_spend(org_id, user_id, hashed))
        return None

    @contextmanager
    def attempt(self, org_id: str, user_id: str) -> Iterator[None]:
        """Counts what happens inside as one attempt on the account: a refused code
        (``ValidationError``) is a failure; anything else gives the slot back. Raises
        ``RateLimitedError`` when five failures are already counted."""
        buckets = self._throttle.keys((mfa_failures_pk(org_id, user_id), MAX_FAILURES))
        try:
            self._throttle.reserve(buckets)
        except TooManyAttemptsError:
            raise too_many() from None
        refused = False
        try:
            yield
        except ValidationError:
            refused = True
            self._throttle.failed(buckets)
            raise
        finally:
            if not refused:  # a right answer, or a failure that was not the answer's
                self._throttle.release([key for key, _ in buckets])

    def require_code(self, org_id: str, user_id: str, factors: FactorSet, code: str) -> Proof:
        proof = self.check_code(org_id, user_id, factors, code)
        if proof is None:
            raise refused_code()
        return proof
