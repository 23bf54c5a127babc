"""Agreements on one node's PostGIS: the admin API and its refusals, the state machine each
action drives, the control event each change puts in the outbox, the peer's control events
applied through the inbox, and the activation hooks. Two live nodes: test_federation_delivery."""

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from federation import agreements
from federation.inbox import InboxPeer, receive
from federation.models import Agreement, Delivery, OutboxEvent, Peer, Side
from federation.policy import active_clause, state_of
from schemas.federation import (
    AgreementCreate,
    AgreementData,
    AgreementState,
    CloudEvent,
    EventType,
    PeerState,
    Scope,
    node_source,
)
from schemas.geo import Polygon

Headers = dict[str, str]
NOW = datetime.now(UTC)
SQUARE = [[[-101.1, 25.3], [-100.8, 25.3], [-100.8, 25.6], [-101.1, 25.6], [-101.1, 25.3]]]
BOWTIE = [[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]


@pytest.fixture(autouse=True)
def handlers() -> None:
    agreements.install()


@pytest.fixture
def peer(session: Session) -> Peer:
    row = Peer(
        id=uuid.uuid4(),
        node_id=uuid.uuid4(),
        name="Región Sureste",
        api_base="http://127.0.0.1:9/",
        state=PeerState.ACTIVE,
        fingerprint="0" * 64,
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def hooks() -> Iterator[list[uuid.UUID]]:
    called: list[uuid.UUID] = []

    def hook(session: Session, row: Agreement) -> None:
        called.append(row.id)

    agreements.ACTIVATION_HOOKS.append(hook)
    yield called
    agreements.ACTIVATION_HOOKS.remove(hook)


def body(peer: Peer, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "peer_id": str(peer.id),
        "scopes_out": ["alerts"],
        "scopes_in": ["hotlists"],
        "area": {"type": "Polygon", "coordinates": SQUARE},
        "purpose": "Vehículos robados",
        "legal_basis": "Convenio de colaboración 2026/17",
        "expires_at": (NOW + timedelta(days=90)).isoformat(),
    }
    return base | changes


def control_events(session: Session, peer: Peer) -> list[AgreementData]:
    rows = session.scalars(
        select(OutboxEvent.data)
        .join(Delivery, Delivery.outbox_id == OutboxEvent.id)
        .where(Delivery.peer_id == peer.id, OutboxEvent.type == EventType.AGREEMENT.value)
        .order_by(OutboxEvent.time)
    )
    return [AgreementData.model_validate(d) for d in rows]


def test_propose_stores_it_accepted_here_and_tells_the_peer(
    client: TestClient, admin: Headers, session: Session, peer: Peer
) -> None:
    reply = client.post("/api/v1/federation/agreements", json=body(peer), headers=admin)
    assert reply.status_code == 201, reply.text
    out = reply.json()
    assert out["state"] == "proposed" and out["proposed_by"] == "local"
    assert out["local_accepted_at"] and out["peer_accepted_at"] is None
    assert out["peer_node_id"] == str(peer.node_id)
    assert out["area"]["type"] == "MultiPolygon"
    [sent] = control_events(session, peer)
    assert sent.agreement_id == uuid.UUID(out["id"])
    assert sent.sender_accepted and sent.scopes_out == [Scope.ALERTS]
    assert sent.area is not None
    listed = client.get(f"/api/v1/federation/agreements?peer_id={peer.id}", headers=admin)
    assert [a["id"] for a in listed.json()] == [out["id"]]
    one = client.get(f"/api/v1/federation/agreements/{out['id']}", headers=admin)
    assert one.json()["state"] == "proposed"


@pytest.mark.parametrize(
    ("changes", "status", "param"),
    [
        ({"peer_id": str(uuid.UUID(int=7))}, 404, None),
        ({"expires_at": (NOW - timedelta(minutes=1)).isoformat()}, 422, "expires_at"),
        ({"scopes_out": [], "scopes_in": []}, 422, "scopes_out"),
        ({"area": {"type": "Polygon", "coordinates": BOWTIE}}, 422, "area"),
        ({"scopes_out": ["everything"]}, 422, "scopes_out.0"),
    ],
)
def test_bad_proposals_are_refused_and_nothing_is_written(
    client: TestClient,
    admin: Headers,
    session: Session,
    peer: Peer,
    changes: dict[str, Any],
    status: int,
    param: str | None,
) -> None:
    reply = client.post("/api/v1/federation/agreements", json=body(peer, **changes), headers=admin)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    if param:
        assert param in [p["name"] for p in reply.json()["invalid_params"]]
    assert session.scalar(select(func.count()).select_from(Agreement)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_only_admins_handle_agreements(
    client: TestClient, auth: Callable[..., Headers], peer: Peer
) -> None:
    from schemas.enums import Role

    operator = auth(Role.OPERATOR)
    reply = client.post("/api/v1/federation/agreements", json=body(peer), headers=operator)
    assert reply.status_code == 403
    assert client.get("/api/v1/federation/agreements").status_code == 401


def _from_peer(session: Session, peer: Peer, data: AgreementData, n: int) -> dict[str, str]:
    event = CloudEvent(
        id=f"control-{n}",
        source=node_source(peer.node_id),
        type=EventType.AGREEMENT,
        time=NOW,
        data=data.model_dump(mode="json"),
    )
    who = InboxPeer(peer_id=peer.id, node_id=peer.node_id, name=peer.name)
    result = receive(session, who, [event], datetime.now(UTC))
    return result.refused


def test_handshake_suspend_resume_revoke_from_our_side(
    client: TestClient, admin: Headers, session: Session, peer: Peer, hooks: list[uuid.UUID]
) -> None:
    made = client.post("/api/v1/federation/agreements", json=body(peer), headers=admin).json()
    ident = uuid.UUID(made["id"])
    base = "/api/v1/federation/agreements/" + made["id"]
    # Accepting twice on our side is a conflict: we accepted by proposing.
    assert client.post(base + "/accept", headers=admin).status_code == 409
    # The peer's acceptance arrives through the inbox: active on our side, hooks run once.
    row = session.get(Agreement, ident)
    assert row is not None
    accepted = agreements.control_data(row, NOW).model_copy(
        update={"sender_accepted": True, "scopes_out": [Scope.HOTLISTS], "scopes_in": []}
    )
    assert _from_peer(session, peer, accepted, 1) == {}
    assert hooks == [ident]
    assert client.get(base, headers=admin).json()["state"] == "active"
    # Suspend: effective here at once and told to the peer.
    reply = client.post(base + "/suspend", json={"reason": "audit"}, headers=admin)
    assert reply.json()["state"] == "suspended" and reply.json()["suspended_by"] == "local"
    assert client.post(base + "/suspend", headers=admin).status_code == 409
    assert control_events(session, peer)[-1].suspended_by_sender
    reply = client.post(base + "/resume", headers=admin)
    assert reply.json()["state"] == "active"
    assert hooks == [ident, ident]  # active again: hooks run again (they are idempotent)
    assert not control_events(session, peer)[-1].suspended_by_sender
    reply = client.post(base + "/revoke", headers=admin)
    assert reply.json()["state"] == "revoked"
    assert control_events(session, peer)[-1].revoked
    for action in ("accept", "suspend", "resume", "revoke"):
        refused = client.post(f"{base}/{action}", headers=admin)
        assert refused.status_code == 409, action
        assert "final" in refused.json()["detail"]
    assert len(control_events(session, peer)) == 4


def test_a_peer_proposal_waits_for_our_admin(
    client: TestClient, admin: Headers, session: Session, peer: Peer, hooks: list[uuid.UUID]
) -> None:
    ident = uuid.uuid4()
    proposal = AgreementData(
        agreement_id=ident,
        state=AgreementState.PROPOSED,
        sender_accepted=True,
        suspended_by_sender=False,
        revoked=False,
        scopes_out=[Scope.HOTLISTS],
        scopes_in=[Scope.ALERTS, Scope.PLATE_READS],
        area=Polygon(type="Polygon", coordinates=SQUARE),
        purpose="Vehículos robados",
        legal_basis="Convenio 2026/17",
        expires_at=NOW + timedelta(days=30),
    )
    assert _from_peer(session, peer, proposal, 1) == {}
    base = f"/api/v1/federation/agreements/{ident}"
    got = client.get(base, headers=admin).json()
    assert got["proposed_by"] == "peer" and got["state"] == "proposed"
    assert got["scopes_out"] == ["alerts", "plate_reads"] and got["scopes_in"] == ["hotlists"]
    assert hooks == []
    assert client.post(base + "/accept", headers=admin).json()["state"] == "active"
    assert hooks == [ident]
    assert control_events(session, peer)[-1].sender_accepted
    # The peer suspends: we may not lift its suspension.
    suspended = proposal.model_copy(update={"suspended_by_sender": True})
    assert _from_peer(session, peer, suspended, 2) == {}
    assert client.get(base, headers=admin).json()["suspended_by"] == "peer"
    assert client.post(base + "/resume", headers=admin).status_code == 409
    # The same control event delivered again is a duplicate, applied once.
    assert _from_peer(session, peer, suspended, 2) == {}
    # The peer revokes: final here too, and a late event cannot bring it back.
    assert _from_peer(session, peer, proposal.model_copy(update={"revoked": True}), 3) == {}
    assert _from_peer(session, peer, proposal, 4) == {}
    row = session.get(Agreement, ident)
    assert row is not None and row.revoked_by is Side.PEER
    assert state_of(row, datetime.now(UTC)) is AgreementState.REVOKED


def test_another_peer_cannot_touch_our_agreement(
    client: TestClient, admin: Headers, session: Session, peer: Peer
) -> None:
    made = client.post("/api/v1/federation/agreements", json=body(peer), headers=admin).json()
    row = session.get(Agreement, uuid.UUID(made["id"]))
    assert row is not None
    intruder = Peer(
        id=uuid.uuid4(),
        node_id=uuid.uuid4(),
        name="Otro",
        api_base="http://127.0.0.1:9/",
        state=PeerState.ACTIVE,
        fingerprint="1" * 64,
    )
    session.add(intruder)
    session.flush()
    revoke = agreements.control_data(row, NOW).model_copy(update={"revoked": True})
    refused = _from_peer(session, intruder, revoke, 1)
    assert refused == {"control-1": "this agreement binds another peer"}
    assert state_of(row, datetime.now(UTC)) is AgreementState.PROPOSED


def test_expiry_is_by_time(session: Session, peer: Peer) -> None:
    data = AgreementCreate.model_validate(body(peer))
    row = agreements.propose(session, data, NOW)
    row.peer_accepted_at = NOW
    assert state_of(row, NOW) is AgreementState.ACTIVE
    assert state_of(row, data.expires_at) is AgreementState.EXPIRED
    with pytest.raises(Exception, match="expired"):
        agreements.accept(session, row.id, data.expires_at + timedelta(seconds=1))


def test_sql_and_python_states_agree(session: Session, peer: Peer) -> None:
    """active_clause (what the outbox uses) says ACTIVE exactly when agreement_state does."""
    later = NOW + timedelta(days=1)
    rows = []
    for n in range(32):
        rows.append(
            Agreement(
                id=uuid.uuid4(),
                peer_id=peer.id,
                proposed_by=Side.LOCAL,
                scopes_out=["alerts"],
                scopes_in=[],
                purpose="p",
                legal_basis="l",
                expires_at=NOW - timedelta(seconds=1) if n & 1 else later,
                local_accepted_at=NOW if n & 2 else None,
                peer_accepted_at=NOW if n & 4 else None,
                suspended_by=Side.PEER if n & 8 else None,
                revoked_at=NOW if n & 16 else None,
            )
        )
    session.add_all(rows)
    session.flush()
    active_sql = set(session.scalars(select(Agreement.id).where(active_clause(NOW))))
    active_py = {r.id for r in rows if state_of(r, NOW) is AgreementState.ACTIVE}
    assert active_sql == active_py and len(active_py) == 1


def test_no_agreement_with_a_suspended_peer(
    client: TestClient, admin: Headers, session: Session, peer: Peer
) -> None:
    peer.state = PeerState.SUSPENDED
    session.flush()
    reply = client.post("/api/v1/federation/agreements", json=body(peer), headers=admin)
    assert reply.status_code == 409
    assert "reactivate" in reply.json()["detail"]
