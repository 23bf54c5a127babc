"""What may leave a node: agreement states, and the per-event check made at delivery time."""

import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import shapely
from shapely import box

from federation.delivery import cloud_event, encode_batch, event_allowed
from federation.inbox import Allowance, permits
from federation.policy import AgreementFacts, agreement_state
from schemas.federation import AgreementState, CloudEvent, EventType, PeerState, Scope

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


@pytest.mark.parametrize(
    ("local", "peer", "suspended", "revoked", "expires", "state"),
    [
        (True, True, False, False, LATER, AgreementState.ACTIVE),
        (True, False, False, False, LATER, AgreementState.PROPOSED),
        (False, True, False, False, LATER, AgreementState.PROPOSED),
        (True, True, True, False, LATER, AgreementState.SUSPENDED),
        (True, True, False, True, LATER, AgreementState.REVOKED),
        (True, True, True, True, NOW, AgreementState.REVOKED),  # revocation wins over all
        (True, True, False, False, NOW, AgreementState.EXPIRED),  # expiry at the instant
        (True, True, True, False, NOW - timedelta(seconds=1), AgreementState.EXPIRED),
        (True, False, True, False, LATER, AgreementState.PROPOSED),
    ],
)
def test_agreement_state(
    local: bool, peer: bool, suspended: bool, revoked: bool, expires: datetime, state: str
) -> None:
    facts = AgreementFacts(local, peer, suspended, revoked, expires)
    assert agreement_state(facts, NOW) == state


def test_only_both_acceptances_unsuspended_unrevoked_unexpired_is_active() -> None:
    for local, peer, suspended, revoked, expired in itertools.product([False, True], repeat=5):
        facts = AgreementFacts(
            local, peer, suspended, revoked, NOW - timedelta(1) if expired else LATER
        )
        active = local and peer and not suspended and not revoked and not expired
        assert (agreement_state(facts, NOW) is AgreementState.ACTIVE) == active


SALTILLO = box(-101.1, 25.3, -100.8, 25.6)
shapely.prepare(SALTILLO)
INSIDE = (-101.0, 25.4)
OUTSIDE = (-99.0, 19.4)
ALERTS_HERE = Allowance(frozenset({"alerts"}), SALTILLO)
HOTLISTS_ANYWHERE = Allowance(frozenset({"hotlists"}), None)


def test_event_needs_its_scope_and_the_area() -> None:
    alert = EventType.ALERT.value
    active = PeerState.ACTIVE
    assert event_allowed(active, [ALERTS_HERE], alert, INSIDE)
    assert not event_allowed(active, [ALERTS_HERE], alert, OUTSIDE)
    assert not event_allowed(active, [HOTLISTS_ANYWHERE], alert, INSIDE)
    assert event_allowed(active, [HOTLISTS_ANYWHERE, ALERTS_HERE], alert, INSIDE)
    assert not event_allowed(active, [], alert, INSIDE)
    # An event without a place flows under an area-limited agreement (as the outbox decides).
    assert event_allowed(active, [HOTLISTS_ANYWHERE], EventType.HOTLIST_ENTRY.value, None)


def test_area_boundary_counts_as_inside() -> None:
    corner = (-101.1, 25.3)
    assert permits([ALERTS_HERE], Scope.ALERTS, corner)
    assert not permits([ALERTS_HERE], Scope.HOTLISTS, corner)


def test_nothing_but_control_events_reaches_a_suspended_peer() -> None:
    for state in (PeerState.SUSPENDED, PeerState.REVOKED):
        assert not event_allowed(state, [ALERTS_HERE], EventType.ALERT.value, INSIDE)
    control = EventType.AGREEMENT.value
    assert event_allowed(PeerState.ACTIVE, [], control, None)
    assert event_allowed(PeerState.SUSPENDED, [], control, None)
    assert not event_allowed(PeerState.REVOKED, [], control, None)


def test_unknown_type_never_leaves() -> None:
    assert not event_allowed(PeerState.ACTIVE, [HOTLISTS_ANYWHERE], "org.example.other", None)


def _row(n: int, data: dict[str, object]) -> SimpleNamespace:
    return SimpleNamespace(
        outbox_id=uuid.UUID(int=n),
        type=EventType.HOTLIST_ENTRY_REVOKED.value,
        subject=f"entry/{n}",
        time=NOW,
        data=data,
    )


def test_cloud_events_validate_against_the_contract() -> None:
    source = f"urn:c4hub:node:{uuid.UUID(int=9)}"
    row = _row(1, {"entry_id": str(uuid.UUID(int=5)), "revoked_at": NOW.isoformat()})
    event = CloudEvent.model_validate(cloud_event(source, row))  # type: ignore[arg-type]
    assert event.id == str(uuid.UUID(int=1))
    assert event.source == source and event.time == NOW and event.subject == "entry/1"


def test_batches_stop_at_the_byte_limit_but_carry_at_least_one() -> None:
    rows = [_row(n, {"pad": "x" * 400}) for n in range(10)]
    body, sent = encode_batch("urn:c4hub:node:x", rows, 2000)  # type: ignore[arg-type]
    assert 1 < len(sent) < 10 and len(body) <= 2000
    assert [e["id"] for e in json.loads(body)] == [str(r.outbox_id) for r in sent]
    _, one = encode_batch("urn:c4hub:node:x", rows, 10)  # type: ignore[arg-type]
    assert len(one) == 1
