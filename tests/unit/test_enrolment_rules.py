"""The access decision for every consent tier, enrolment state and use, written out by hand."""

import itertools

import pytest

from hub.enrolment.rules import Use, at_least, permits
from schemas.enrolment import ConsentTier, EnrolmentState

T = ConsentTier
S = EnrolmentState
U = Use

# What an approved enrolment grants, tier by tier, without and with an alert nearby.
APPROVED: dict[ConsentTier, set[Use]] = {
    T.REGISTRY_ONLY: {U.MAP},
    T.ON_REQUEST: {U.MAP, U.PROBE, U.HEALTH_REACHABILITY, U.FOOTAGE_REQUEST},
    T.LIVE_ON_ALARM: {U.MAP, U.PROBE, U.HEALTH_REACHABILITY, U.FOOTAGE_REQUEST},
    T.LIVE_ALWAYS: set(Use),
}
APPROVED_WITH_ALERT: dict[ConsentTier, set[Use]] = {
    **APPROVED,
    T.LIVE_ON_ALARM: APPROVED[T.LIVE_ON_ALARM] | {U.LIVE_VIEW},
}


def expected(tier: ConsentTier, state: EnrolmentState, use: Use, alert: bool) -> bool:
    if state is S.SUBMITTED:
        return use in {U.MAP, U.PROBE}
    if state is S.APPROVED:
        return use in (APPROVED_WITH_ALERT if alert else APPROVED)[tier]
    return False  # rejected, withdrawn: nothing, not even the map


@pytest.mark.parametrize(
    ("tier", "state", "use", "alert"),
    list(itertools.product(ConsentTier, EnrolmentState, Use, [False, True])),
)
def test_every_tier_state_and_use(
    tier: ConsentTier, state: EnrolmentState, use: Use, alert: bool
) -> None:
    assert permits(tier, state, use, alert_nearby=alert) is expected(tier, state, use, alert)


@pytest.mark.parametrize(("use", "alert"), list(itertools.product(Use, [False, True])))
def test_a_camera_that_is_not_enrolled_permits_everything(use: Use, alert: bool) -> None:
    assert permits(None, None, use, alert_nearby=alert) is True


def test_withdrawn_and_rejected_grant_nothing_even_at_the_highest_tier() -> None:
    for state, use in itertools.product([S.WITHDRAWN, S.REJECTED], Use):
        assert not permits(T.LIVE_ALWAYS, state, use, alert_nearby=True)


def test_a_submission_never_grants_footage_or_live_view() -> None:
    for tier in ConsentTier:
        assert not permits(tier, S.SUBMITTED, U.LIVE_VIEW, alert_nearby=True)
        assert not permits(tier, S.SUBMITTED, U.FOOTAGE_REQUEST)


def test_tiers_are_ordered() -> None:
    order = [T.REGISTRY_ONLY, T.ON_REQUEST, T.LIVE_ON_ALARM, T.LIVE_ALWAYS]
    for low, high in itertools.combinations(order, 2):
        assert at_least(high, low) and not at_least(low, high)
    assert all(at_least(t, t) for t in order)
