"""The agreement handshake as each side records it: a proposal arrives mirrored, and a peer's
control event changes only the state the peer owns. No database: rows are transient."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from federation.agreements import apply_peer_state, control_data, mirror
from federation.inbox import InboxPeer, Refused
from federation.models import Agreement, Side
from federation.policy import state_of
from schemas.federation import AgreementData, AgreementState, Scope
from schemas.geo import Polygon

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PEER = InboxPeer(peer_id=uuid.uuid4(), node_id=uuid.uuid4(), name="Region")
AREA = Polygon(
    type="Polygon",
    coordinates=[[[-101.1, 25.3], [-100.8, 25.3], [-100.8, 25.6], [-101.1, 25.6], [-101.1, 25.3]]],
)


def sent(**changes: object) -> AgreementData:
    """What the proposing node (the sender) says about the agreement."""
    base: dict[str, object] = {
        "agreement_id": uuid.UUID(int=1),
        "state": AgreementState.PROPOSED,
        "sender_accepted": True,
        "suspended_by_sender": False,
        "revoked": False,
        "scopes_out": [Scope.HOTLISTS],
        "scopes_in": [Scope.ALERTS, Scope.PLATE_READS],
        "area": AREA,
        "purpose": "Stolen vehicles",
        "legal_basis": "Convenio 2026/17",
        "expires_at": NOW + timedelta(days=365),
    }
    return AgreementData.model_validate(base | changes)


def test_a_proposal_arrives_mirrored_and_waits_for_our_acceptance() -> None:
    row = mirror(PEER, sent(), NOW)
    assert row.id == uuid.UUID(int=1) and row.peer_id == PEER.peer_id
    assert row.proposed_by is Side.PEER
    assert row.scopes_out == ["alerts", "plate_reads"]  # what the sender takes, we send
    assert row.scopes_in == ["hotlists"]
    assert isinstance(row.area, str) and row.area.startswith("SRID=4326;MULTIPOLYGON")
    assert row.peer_accepted_at == NOW and row.local_accepted_at is None
    assert state_of(row, NOW) is AgreementState.PROPOSED
    row.local_accepted_at = NOW
    assert state_of(row, NOW) is AgreementState.ACTIVE


def test_a_new_agreement_cannot_arrive_revoked() -> None:
    with pytest.raises(Refused):
        mirror(PEER, sent(revoked=True), NOW)


def test_peer_acceptance_then_its_suspension_and_resume() -> None:
    ours = Agreement(
        id=uuid.UUID(int=1),
        peer_id=PEER.peer_id,
        proposed_by=Side.LOCAL,
        scopes_out=["hotlists"],
        scopes_in=["alerts"],
        expires_at=NOW + timedelta(days=1),
        local_accepted_at=NOW,
        peer_accepted_at=None,
        suspended_by=None,
        revoked_at=None,
    )
    apply_peer_state(ours, sent(), NOW)
    assert state_of(ours, NOW) is AgreementState.ACTIVE
    apply_peer_state(ours, sent(suspended_by_sender=True), NOW)
    assert ours.suspended_by is Side.PEER
    assert state_of(ours, NOW) is AgreementState.SUSPENDED
    apply_peer_state(ours, sent(), NOW)
    assert ours.suspended_by is None
    assert state_of(ours, NOW) is AgreementState.ACTIVE


def test_peer_resume_does_not_lift_our_own_suspension() -> None:
    ours = mirror(PEER, sent(), NOW)
    ours.local_accepted_at = NOW
    ours.suspended_by = Side.LOCAL
    apply_peer_state(ours, sent(), NOW)
    assert ours.suspended_by is Side.LOCAL
    assert state_of(ours, NOW) is AgreementState.SUSPENDED


def test_peer_revocation_is_final_here() -> None:
    ours = mirror(PEER, sent(), NOW)
    ours.local_accepted_at = NOW
    apply_peer_state(ours, sent(revoked=True), NOW)
    assert ours.revoked_by is Side.PEER
    assert state_of(ours, NOW) is AgreementState.REVOKED


def test_resent_terms_cannot_widen_what_we_send() -> None:
    ours = mirror(PEER, sent(), NOW)
    apply_peer_state(ours, sent(scopes_in=list(Scope), area=None), NOW)
    assert ours.scopes_out == ["alerts", "plate_reads"]
    assert ours.area is not None


def test_control_data_speaks_from_the_senders_side() -> None:
    ours = mirror(PEER, sent(), NOW)
    ours.area = None  # a transient row's area is EWKT, not yet a stored geometry
    ours.local_accepted_at = NOW
    ours.suspended_by = Side.LOCAL
    data = control_data(ours, NOW)
    assert data.sender_accepted and data.suspended_by_sender and not data.revoked
    assert data.scopes_out == [Scope.ALERTS, Scope.PLATE_READS]
    assert data.scopes_in == [Scope.HOTLISTS]
    assert data.state is AgreementState.SUSPENDED
