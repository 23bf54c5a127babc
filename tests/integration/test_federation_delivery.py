"""Delivery between two live nodes on loopback (each its own database, keys and server):
the agreement handshake over the wire, events delivered once in signed batches even when
posted twice, a backlog drained in one run, withheld after suspension, refused by the peer
into the dead-letter view and back, a peer down (retries, breaker, drain on return).
The delivery functions are called directly: no Celery here (see test_federation_worker)."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from federation import outbox
from federation.backoff import Breaker
from federation.client import PeerClient
from federation.delivery import (
    Clients,
    DeliveryContext,
    DeliveryPolicy,
    DeliveryReport,
    deliver_peer,
    encode_batch,
    post_batch,
)
from federation.identity import SigningKey
from federation.models import (
    Agreement,
    Delivery,
    DeliveryState,
    InboxEvent,
    OutboxEvent,
    Peer,
    Side,
)
from hub.auth.service import create_token
from schemas.enums import Role
from schemas.federation import CameraHealthData, EventType, Scope, node_source
from schemas.geo import Point
from tests.integration.federation_nodes import Node, peer, running_node
from tests.support import free_port

INSIDE = (-101.0, 25.4)
OUTSIDE = (-99.1, 19.4)
AREA = {
    "type": "Polygon",
    "coordinates": [
        [[-101.1, 25.3], [-100.8, 25.3], [-100.8, 25.6], [-101.1, 25.6], [-101.1, 25.3]]
    ],
}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root: Path = tmp_path_factory.mktemp("delivery")
    with pytest.MonkeyPatch.context() as env:
        # No kick to RabbitMQ after commits: these tests deliver by calling deliver_peer.
        env.setenv("C4HUB_FEDERATION_KICK", "false")
        with running_node("Region", root / "a") as a, running_node("Saltillo", root / "b") as b:
            peer(a, b)
            yield a, b


def make_client(key: SigningKey) -> PeerClient:
    return PeerClient(key, timeout_s=5)


def context(node: Node, **policy: Any) -> DeliveryContext:
    return DeliveryContext(
        sessions=node.sessions,
        clients=Clients(node.settings.data_dir, make_client),
        policy=DeliveryPolicy(**policy),
        uniform=lambda low, high: 0.0,  # retries due at once: the tests step the clock
    )


def peer_id(here: Node, other: Node) -> uuid.UUID:
    return here.peer_row(other).id


def admin(node: Node) -> dict[str, str]:
    with node.session() as session:
        return {"Authorization": f"Bearer {create_token(session, Role.ADMIN, None)}"}


def deliver(here: Node, other: Node, **policy: Any) -> DeliveryReport:
    return deliver_peer(context(here, **policy), peer_id(here, other))


def agree(a: Node, b: Node, out: list[Scope], area: dict[str, Any] | None = AREA) -> str:
    """a proposes, b accepts, each side hears the other: active on both. Its id."""
    terms = {
        "peer_id": str(peer_id(a, b)),
        "scopes_out": [s.value for s in out],
        "scopes_in": [],
        "area": area,
        "purpose": "Pruebas de entrega",
        "legal_basis": "Convenio 2026/17",
        "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    made = httpx.post(f"{a.url}/api/v1/federation/agreements", json=terms, headers=admin(a))
    assert made.status_code == 201, made.text
    ident = made.json()["id"]
    assert deliver(a, b).delivered >= 1
    accepted = httpx.post(f"{b.url}/api/v1/federation/agreements/{ident}/accept", headers=admin(b))
    assert accepted.json()["state"] == "active", accepted.text
    assert deliver(b, a).delivered >= 1
    state = httpx.get(f"{a.url}/api/v1/federation/agreements/{ident}", headers=admin(a))
    assert state.json()["state"] == "active"
    return str(ident)


def act(node: Node, ident: str, action: str) -> dict[str, Any]:
    reply = httpx.post(
        f"{node.url}/api/v1/federation/agreements/{ident}/{action}", headers=admin(node)
    )
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


@pytest.fixture
def agreement(nodes: tuple[Node, Node]) -> Iterator[str]:
    a, b = nodes
    ident = agree(a, b, [Scope.CAMERA_HEALTH])
    yield ident
    with a.session() as session:  # leave nothing pending for the next test
        session.execute(update(Delivery).values(state=DeliveryState.WITHHELD))
    with b.session() as session:
        session.execute(update(Delivery).values(state=DeliveryState.WITHHELD))
    for node in (a, b):  # revoked on both sides (a test may have revoked it already)
        with node.session() as session:
            session.execute(
                update(Agreement)
                .where(Agreement.id == uuid.UUID(ident), Agreement.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC), revoked_by=Side.LOCAL)
            )
    with a.session() as session:
        session.execute(
            update(Peer).values(failures=0, circuit_open_until=None, api_base=b.url + "/")
        )


def emit(node: Node, n: int, position: tuple[float, float] = INSIDE) -> list[uuid.UUID]:
    ids = []
    with node.session() as session:
        for _ in range(n):
            ident = uuid.uuid4()
            data = CameraHealthData(
                camera_id=uuid.uuid4(),
                status="offline",
                previous="online",
                position=Point(type="Point", coordinates=list(position)),
                changed_at=datetime.now(UTC),
            )
            if outbox.emit(
                session, EventType.CAMERA_HEALTH, data, position=position, event_id=ident
            ):
                ids.append(ident)
    return ids


def received(node: Node, ids: list[uuid.UUID]) -> int:
    with node.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(InboxEvent)
            .where(InboxEvent.event_id.in_([str(i) for i in ids]))
        )
    return int(count or 0)


def states(node: Node, ids: list[uuid.UUID]) -> dict[str, int]:
    with node.session() as session:
        rows = session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.outbox_id.in_(ids))
            .group_by(Delivery.state)
        )
        return {state.value: count for state, count in rows}


def test_events_are_delivered_once_even_when_posted_twice(
    nodes: tuple[Node, Node], agreement: str
) -> None:
    a, b = nodes
    ids = emit(a, 3)
    assert len(ids) == 3
    report = deliver(a, b)
    assert (report.delivered, report.batches) == (3, 1)
    assert received(b, ids) == 3
    with b.session() as session:
        sources = set(
            session.scalars(
                select(InboxEvent.source).where(InboxEvent.event_id.in_([str(i) for i in ids]))
            )
        )
    assert sources == {node_source(uuid.UUID(str(a.node_id)))}
    # The sender lost the answer and sends the same events again: duplicates, applied once.
    with a.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.outbox_id.in_(ids))
            .values(state=DeliveryState.PENDING, delivered_at=None)
        )
    assert deliver(a, b).delivered == 3
    assert received(b, ids) == 3
    # The very same batch posted twice by hand: the second answer names them duplicates.
    with a.session() as session:
        rows = session.execute(
            select(
                OutboxEvent.id.label("outbox_id"),
                OutboxEvent.type,
                OutboxEvent.subject,
                OutboxEvent.time,
                OutboxEvent.data,
            ).where(OutboxEvent.id.in_(ids))
        ).all()
    body, _ = encode_batch(node_source(uuid.UUID(str(a.node_id))), rows, 1 << 20)
    with a.client() as client:
        first = post_batch(client, a.target(b), body)
        second = post_batch(client, a.target(b), body)
    assert sorted(first.duplicates) == sorted(second.duplicates) == sorted(str(i) for i in ids)
    assert received(b, ids) == 3


def test_a_backlog_drains_in_one_run(nodes: tuple[Node, Node], agreement: str) -> None:
    a, b = nodes
    ids = emit(a, 120)
    report = deliver(a, b, batch=50)
    assert (report.delivered, report.batches) == (120, 3)
    assert received(b, ids) == 120
    assert states(a, ids) == {"delivered": 120}


def test_suspended_agreement_withholds_what_was_not_sent(
    nodes: tuple[Node, Node], agreement: str
) -> None:
    a, b = nodes
    ids = emit(a, 2)
    assert act(a, agreement, "suspend")["state"] == "suspended"
    report = deliver(a, b)
    assert report.withheld == 2
    assert states(a, ids) == {"withheld": 2}
    assert received(b, ids) == 0
    # The suspension itself reached b (a control event in the same batch).
    peer_view = httpx.get(f"{b.url}/api/v1/federation/agreements/{agreement}", headers=admin(b))
    assert peer_view.json()["state"] == "suspended"
    assert peer_view.json()["suspended_by"] == "peer"
    # Suspended: nothing new is even written for the peer.
    assert emit(a, 1) == []
    assert act(a, agreement, "resume")["state"] == "active"
    later = emit(a, 1)
    assert deliver(a, b).delivered == 2  # the resume and the new event
    assert received(b, later) == 1


def test_outside_the_area_nothing_is_written_for_the_peer(
    nodes: tuple[Node, Node], agreement: str
) -> None:
    a, _ = nodes
    assert emit(a, 1, OUTSIDE) == []


def test_refused_by_the_peer_goes_dead_then_retried(
    nodes: tuple[Node, Node], agreement: str
) -> None:
    a, b = nodes
    # b revokes; its control event waits in b's outbox, so a still sends under the agreement.
    act(b, agreement, "revoke")
    ids = emit(a, 2)
    report = deliver(a, b)
    assert (report.dead, report.delivered) == (2, 0)
    dead = httpx.get(
        f"{a.url}/api/v1/federation/deliveries",
        params={"state": "dead", "peer": str(peer_id(a, b))},
        headers=admin(a),
    ).json()
    mine = [d for d in dead["items"] if uuid.UUID(d["outbox_id"]) in ids]
    assert len(mine) == 2
    assert all("refused by Saltillo" in d["last_error"] for d in mine)
    assert all("no active agreement" in d["last_error"] for d in mine)
    assert mine[0]["type"] == EventType.CAMERA_HEALTH.value and mine[0]["peer_name"] == "Saltillo"
    # One at a time, newest first: the cursor walks every dead delivery exactly once.
    walked: list[str] = []
    params: dict[str, str] = {"state": "dead", "limit": "1"}
    while True:
        page = httpx.get(
            f"{a.url}/api/v1/federation/deliveries", params=params, headers=admin(a)
        ).json()
        walked += [d["outbox_id"] for d in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert sorted(walked) == sorted(d["outbox_id"] for d in dead["items"])
    for cursor in ("not-a-cursor", "f" * 54):  # wrong shape; right shape, impossible time
        bad = httpx.get(
            f"{a.url}/api/v1/federation/deliveries", params={"cursor": cursor}, headers=admin(a)
        )
        assert bad.status_code == 422, cursor
    # The operator retries: back to pending, checked again, and now a knows it is revoked.
    retried = httpx.post(
        f"{a.url}/api/v1/federation/deliveries/retry",
        json={"outbox_ids": [str(i) for i in ids]},
        headers=admin(a),
    ).json()
    assert retried == {"moved": 2, "peers": [str(peer_id(a, b))]}
    assert deliver(b, a).delivered >= 1  # b's revocation reaches a
    assert deliver(a, b).withheld == 2
    assert states(a, ids) == {"withheld": 2}
    assert received(b, ids) == 0


def test_peer_down_retries_opens_breaker_and_drains_on_return(
    nodes: tuple[Node, Node], agreement: str
) -> None:
    a, b = nodes
    pb = peer_id(a, b)
    with a.session() as session:  # b "goes down": nothing listens at its address any more
        session.execute(
            update(Peer).where(Peer.id == pb).values(api_base=f"http://127.0.0.1:{free_port()}/")
        )
    ids = emit(a, 4)
    policy: dict[str, Any] = {"breaker": Breaker(failures=2, cooldown_s=60), "max_attempts": 10}
    first = deliver(a, b, **policy)
    assert (first.retried, first.delivered) == (4, 0)
    with a.session() as session:
        attempts = set(
            session.scalars(select(Delivery.attempts).where(Delivery.outbox_id.in_(ids)))
        )
        errors = set(
            session.scalars(select(Delivery.last_error).where(Delivery.outbox_id.in_(ids)))
        )
        assert session.get(Peer, pb).failures == 1  # type: ignore[union-attr]
    assert attempts == {1} and all(e and e.startswith("unreachable") for e in errors)
    deliver(a, b, **policy)
    with a.session() as session:
        breaker = session.get(Peer, pb)
        assert breaker is not None and breaker.failures == 2
        assert breaker.circuit_open_until is not None
    # Open: nothing is tried, attempts stay as they were.
    assert deliver(a, b, **policy).skipped == "circuit open"
    with a.session() as session:
        assert set(
            session.scalars(select(Delivery.attempts).where(Delivery.outbox_id.in_(ids)))
        ) == {2}
    # b is back; after the cooldown one trial batch goes (half-open) and the backlog drains.
    with a.session() as session:
        session.execute(update(Peer).where(Peer.id == pb).values(api_base=b.url + "/"))
    ctx = context(a, **policy)
    ctx.clock = lambda: datetime.now(UTC) + timedelta(seconds=61)
    report = deliver_peer(ctx, pb)
    assert report.delivered == 4
    assert received(b, ids) == 4
    with a.session() as session:
        healed = session.get(Peer, pb)
        assert healed is not None and (healed.failures, healed.circuit_open_until) == (0, None)


def test_retries_are_bounded_then_dead(nodes: tuple[Node, Node], agreement: str) -> None:
    a, b = nodes
    pb = peer_id(a, b)
    with a.session() as session:
        session.execute(
            update(Peer).where(Peer.id == pb).values(api_base=f"http://127.0.0.1:{free_port()}/")
        )
    ids = emit(a, 1)
    policy: dict[str, Any] = {"breaker": Breaker(failures=100), "max_attempts": 3}
    reports = [deliver(a, b, **policy) for _ in range(3)]
    assert [r.retried for r in reports] == [1, 1, 0] and reports[-1].dead == 1
    assert states(a, ids) == {"dead": 1}
    assert deliver(a, b, **policy).batches == 0  # dead is not retried by itself
