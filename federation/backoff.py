"""Retry timing for deliveries to peers. Pure: the caller passes the clock and the randomness.

Backoff is exponential with "full jitter" (a uniform draw between 0 and the capped exponential
delay), so many events failing together do not retry together. The circuit breaker keeps a
peer that keeps failing from being hammered: after `failures` consecutive failed batches it
opens for `cooldown_s`; then one batch is tried (half-open): success closes it, failure opens
it again for another cooldown.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

Uniform = Callable[[float, float], float]  # random.uniform's shape


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    cap_s: float = 600.0

    def ceiling(self, attempts: int) -> float:
        """The largest delay after `attempts` failed attempts (1 = the first failure)."""
        exponent = max(attempts - 1, 0)
        # Capped before it is computed: 2**attempts would overflow a float at ~1024 attempts.
        if exponent >= 64:
            return self.cap_s
        return min(self.cap_s, self.base_s * float(2**exponent))

    def delay(self, attempts: int, uniform: Uniform) -> float:
        return uniform(0.0, self.ceiling(attempts))

    def next_attempt(self, now: datetime, attempts: int, uniform: Uniform) -> datetime:
        return now + timedelta(seconds=self.delay(attempts, uniform))


class Circuit(StrEnum):
    CLOSED = "closed"  # deliver normally
    OPEN = "open"  # do not try until the cooldown ends
    HALF_OPEN = "half_open"  # the cooldown ended: try one batch


@dataclass(frozen=True)
class BreakerState:
    """What the peers row keeps: consecutive failures and until when the circuit is open."""

    failures: int
    open_until: datetime | None


@dataclass(frozen=True)
class Breaker:
    failures: int = 5
    cooldown_s: float = 30.0

    def circuit(self, state: BreakerState, now: datetime) -> Circuit:
        if state.open_until is None:
            return Circuit.CLOSED
        if now < state.open_until:
            return Circuit.OPEN
        return Circuit.HALF_OPEN

    def allows(self, state: BreakerState, now: datetime) -> bool:
        return self.circuit(state, now) is not Circuit.OPEN

    def on_success(self) -> BreakerState:
        return BreakerState(failures=0, open_until=None)

    def on_failure(self, state: BreakerState, now: datetime) -> BreakerState:
        failures = state.failures + 1
        half_open = self.circuit(state, now) is Circuit.HALF_OPEN
        if half_open or failures >= self.failures:
            return BreakerState(failures, now + timedelta(seconds=self.cooldown_s))
        return BreakerState(failures, None)
