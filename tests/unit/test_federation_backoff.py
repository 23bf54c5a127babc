"""Delivery retry timing: exponential backoff with full jitter, and the per-peer breaker."""

from datetime import UTC, datetime, timedelta

from federation.backoff import Backoff, Breaker, BreakerState, Circuit

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def top(low: float, high: float) -> float:
    return high


def bottom(low: float, high: float) -> float:
    return low


def test_ceiling_doubles_from_base_and_stops_at_cap() -> None:
    backoff = Backoff(base_s=1.0, cap_s=60.0)
    assert [backoff.ceiling(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_ceiling_is_bounded_for_huge_attempt_counts() -> None:
    assert Backoff(base_s=1.0, cap_s=600.0).ceiling(10_000) == 600.0


def test_delay_is_drawn_between_zero_and_ceiling() -> None:
    backoff = Backoff(base_s=2.0, cap_s=600.0)
    seen: list[tuple[float, float]] = []

    def record(low: float, high: float) -> float:
        seen.append((low, high))
        return (low + high) / 2

    assert backoff.delay(3, record) == 4.0
    assert seen == [(0.0, 8.0)]
    assert backoff.delay(3, bottom) == 0.0
    assert backoff.next_attempt(NOW, 3, top) == NOW + timedelta(seconds=8)


def test_real_jitter_spreads_retries() -> None:
    import random

    rng = random.Random(7)
    delays = {round(Backoff(cap_s=600).delay(6, rng.uniform), 3) for _ in range(50)}
    assert len(delays) > 40
    assert all(0 <= d <= 32 for d in delays)


def test_breaker_opens_after_consecutive_failures() -> None:
    breaker = Breaker(failures=3, cooldown_s=30)
    state = BreakerState(0, None)
    for expected in (1, 2):
        state = breaker.on_failure(state, NOW)
        assert state == BreakerState(expected, None)
        assert breaker.circuit(state, NOW) is Circuit.CLOSED
    state = breaker.on_failure(state, NOW)
    assert state == BreakerState(3, NOW + timedelta(seconds=30))
    assert breaker.circuit(state, NOW + timedelta(seconds=29)) is Circuit.OPEN
    assert not breaker.allows(state, NOW + timedelta(seconds=29))


def test_half_open_allows_one_try_then_reopens_or_closes() -> None:
    breaker = Breaker(failures=3, cooldown_s=30)
    opened = BreakerState(3, NOW)
    later = NOW + timedelta(seconds=1)
    assert breaker.circuit(opened, later) is Circuit.HALF_OPEN
    assert breaker.allows(opened, later)
    # The trial fails: open again for a full cooldown, without waiting for N more failures.
    reopened = breaker.on_failure(opened, later)
    assert reopened == BreakerState(4, later + timedelta(seconds=30))
    assert breaker.circuit(reopened, later) is Circuit.OPEN
    # The trial succeeds: closed, count reset.
    assert breaker.on_success() == BreakerState(0, None)


def test_a_success_resets_the_count_before_the_breaker_opens() -> None:
    breaker = Breaker(failures=2, cooldown_s=5)
    state = breaker.on_failure(BreakerState(0, None), NOW)
    state = breaker.on_success()
    state = breaker.on_failure(state, NOW)
    assert breaker.circuit(state, NOW) is Circuit.CLOSED
