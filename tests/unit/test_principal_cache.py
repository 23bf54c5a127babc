"""The per-process cache of checked tokens: expiry, bound, forgetting."""

import uuid

from hub.auth.service import Principal, PrincipalCache
from schemas.enums import Role


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _principal() -> Principal:
    return Principal(token_id=uuid.uuid4(), role=Role.PLANNER, organization_id=None)


def test_entry_is_served_until_it_expires() -> None:
    clock = Clock()
    cache = PrincipalCache(ttl_s=30, clock=clock)
    who = _principal()
    cache.put("h", who)
    clock.now = 29.9
    assert cache.get("h") is who
    clock.now = 30.0
    assert cache.get("h") is None


def test_oldest_entries_leave_first() -> None:
    cache = PrincipalCache(max_entries=2, clock=Clock())
    for key in ("a", "b", "c"):
        cache.put(key, _principal())
    assert cache.get("a") is None
    assert cache.get("b") is not None and cache.get("c") is not None


def test_forget_drops_an_entry() -> None:
    cache = PrincipalCache(clock=Clock())
    cache.put("h", _principal())
    cache.forget("h")
    assert cache.get("h") is None
