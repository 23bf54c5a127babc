"""The inbox on real PostGIS: each event applied once, only within an active agreement's
scopes and area, from the node that signed; a failing handler refuses its event and leaves
nothing of it. Then the signed endpoint itself, between two live nodes."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from federation import inbox
from federation.inbox import InboxPeer, parse_batch, receive
from federation.models import Agreement, InboxEvent, Peer, Side
from schemas.federation import (
    CLOUDEVENTS_BATCH,
    CameraHealthData,
    CloudEvent,
    EventType,
    InboxResult,
    PeerState,
    node_source,
)
from tests.integration.federation_nodes import Node, peer, running_node

NOW = datetime.now(UTC)
AREA = "SRID=4326;MULTIPOLYGON(((-101.1 25.3,-100.8 25.3,-100.8 25.6,-101.1 25.6,-101.1 25.3)))"
INSIDE = [-101.0, 25.4]
OUTSIDE = [-99.1, 19.4]


@pytest.fixture
def sender(session: Session) -> InboxPeer:
    row = Peer(
        id=uuid.uuid4(),
        node_id=uuid.uuid4(),
        name="Monclova",
        api_base="http://127.0.0.1:9/",
        state=PeerState.ACTIVE,
        fingerprint="0" * 64,
    )
    session.add(row)
    session.flush()
    return InboxPeer(peer_id=row.id, node_id=row.node_id, name=row.name)


def agreement(session: Session, who: InboxPeer, scopes_in: list[str], **extra: Any) -> Agreement:
    row = Agreement(
        id=uuid.uuid4(),
        peer_id=who.peer_id,
        proposed_by=Side.LOCAL,
        scopes_out=[],
        scopes_in=scopes_in,
        area=extra.pop("area", AREA),
        purpose="p",
        legal_basis="l",
        expires_at=NOW + timedelta(days=1),
        local_accepted_at=NOW,
        peer_accepted_at=NOW,
        **extra,
    )
    session.add(row)
    session.flush()
    return row


def health(who: InboxPeer, where: list[float] = INSIDE, **changes: Any) -> CloudEvent:
    data = CameraHealthData(
        camera_id=uuid.uuid4(),
        status="offline",
        previous="online",
        position={"type": "Point", "coordinates": where},
        changed_at=NOW,
    )
    event: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "source": node_source(who.node_id),
        "type": EventType.CAMERA_HEALTH,
        "time": NOW,
        "data": data.model_dump(mode="json"),
    }
    return CloudEvent.model_validate(event | changes)


@pytest.fixture
def applied() -> Iterator[list[str]]:
    """A handler for camera health events that writes a row and records the event id; one
    whose camera status is "explode" fails after writing."""
    seen: list[str] = []
    previous = inbox.HANDLERS.get(EventType.CAMERA_HEALTH)

    def handler(session: Session, who: InboxPeer, event: CloudEvent, data: BaseModel) -> None:
        assert isinstance(data, CameraHealthData)
        session.execute(text("CREATE TEMP TABLE IF NOT EXISTS handled (id text)"))
        session.execute(text("INSERT INTO handled VALUES (:id)"), {"id": event.id})
        if data.status == "explode":
            raise RuntimeError("boom")
        seen.append(event.id)

    inbox.register(EventType.CAMERA_HEALTH, handler)
    yield seen
    if previous is None:
        inbox.HANDLERS.pop(EventType.CAMERA_HEALTH, None)
    else:
        inbox.register(EventType.CAMERA_HEALTH, previous)


def stored(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(InboxEvent)) or 0)


def test_each_event_applied_once(session: Session, sender: InboxPeer, applied: list[str]) -> None:
    agreement(session, sender, ["camera_health"])
    events = [health(sender), health(sender)]
    first = receive(session, sender, events, NOW)
    assert (first.applied, first.duplicates, first.refused) == ([e.id for e in events], [], {})
    again = receive(session, sender, [*events, health(sender)], NOW)
    assert again.duplicates == [e.id for e in events] and len(again.applied) == 1
    assert len(applied) == 3 and stored(session) == 3


def test_a_failing_handler_refuses_only_its_event(
    session: Session, sender: InboxPeer, applied: list[str]
) -> None:
    agreement(session, sender, ["camera_health"])
    good, bad = health(sender), health(sender)
    bad = bad.model_copy(update={"data": {**bad.data, "status": "explode"}})
    result = receive(session, sender, [bad, good], NOW)
    assert result.applied == [good.id]
    assert result.refused == {bad.id: "handler failed: RuntimeError"}
    handled = set(session.scalars(text("SELECT id FROM handled")))
    assert handled == {good.id}  # the failed handler's own write was rolled back too
    assert session.get(InboxEvent, (bad.source, bad.id)) is None
    # Not recorded, so the sender may send it again (once the handler is fixed).
    assert receive(session, sender, [bad], NOW).refused == result.refused


def test_only_within_an_active_agreement(session: Session, sender: InboxPeer) -> None:
    assert (
        "no active agreement"
        in receive(session, sender, [health(sender)], NOW).refused.popitem()[1]
    )
    agreement(session, sender, ["alerts"])  # wrong scope
    assert receive(session, sender, [health(sender)], NOW).refused
    agreement(session, sender, ["camera_health"], suspended_by=Side.PEER)
    assert receive(session, sender, [health(sender)], NOW).refused
    agreement(session, sender, ["camera_health"])
    outside = health(sender, OUTSIDE)
    result = receive(session, sender, [health(sender), outside], NOW)
    assert len(result.applied) == 1 and list(result.refused) == [outside.id]
    assert stored(session) == 1


def test_anywhere_when_the_agreement_has_no_area(session: Session, sender: InboxPeer) -> None:
    agreement(session, sender, ["camera_health"], area=None)
    assert len(receive(session, sender, [health(sender, OUTSIDE)], NOW).applied) == 1


def test_a_peer_cannot_speak_for_another_node(session: Session, sender: InboxPeer) -> None:
    agreement(session, sender, ["camera_health"])
    forged = health(sender, source=node_source(uuid.uuid4()))
    reason = receive(session, sender, [forged], NOW).refused[forged.id]
    assert (
        reason == f"source must be {node_source(sender.node_id)}, the node that signed the request"
    )
    assert stored(session) == 0


def test_bad_data_is_refused_with_where(session: Session, sender: InboxPeer) -> None:
    agreement(session, sender, ["camera_health"])
    event = health(sender)
    broken = event.model_copy(update={"data": {**event.data, "camera_id": "nope"}})
    assert (
        receive(session, sender, [broken], NOW)
        .refused[broken.id]
        .startswith("invalid data: camera_id")
    )


def test_malformed_batches() -> None:
    good = {
        "specversion": "1.0",
        "id": "e1",
        "source": "urn:c4hub:node:x",
        "type": EventType.CAMERA_HEALTH.value,
        "time": NOW.isoformat(),
        "data": {},
    }
    events, refused = parse_batch([good, {**good, "id": "e2", "type": "org.evil"}, 7])
    assert [e.id for e in events] == ["e1"]
    assert set(refused) == {"e2", "#2"} and refused["e2"].startswith("invalid event: type")
    with pytest.raises(ValueError):
        parse_batch({"not": "a list"})


# --- the signed endpoint ------------------------------------------------------------------


def node_uuid(node: Node) -> uuid.UUID:
    return uuid.UUID(str(node.node_id))


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root: Path = tmp_path_factory.mktemp("inbox")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("C4HUB_FEDERATION_KICK", "false")
        with running_node("Region", root / "a") as a, running_node("Torreon", root / "b") as b:
            peer(a, b)
            yield a, b


def test_endpoint_answers_signed_per_event(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    me = InboxPeer(peer_id=uuid.uuid4(), node_id=node_uuid(a), name="Region")  # a as b knows it
    stray = health(me)  # no agreement between a and b: refused, with the reason
    forged = health(me, source=node_source(node_uuid(b)))
    batch = [json.loads(stray.model_dump_json()), json.loads(forged.model_dump_json()), {"id": "x"}]
    with a.client() as client:  # PeerClient verifies b's signature on the answer
        reply = client.post(
            a.target(b), "/federation/v1/inbox", json.dumps(batch).encode(), CLOUDEVENTS_BATCH
        )
    assert reply.status == 200
    result = InboxResult.model_validate_json(reply.body)
    assert result.applied == [] and set(result.refused) == {stray.id, forged.id, "x"}
    assert "no active agreement" in result.refused[stray.id]
    assert "source must be" in result.refused[forged.id]


def test_endpoint_refuses_a_body_that_is_not_a_batch(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    with a.client() as client:
        reply = client.post(
            a.target(b), "/federation/v1/inbox", b'{"one": "object"}', CLOUDEVENTS_BATCH
        )
    assert reply.status == 422  # and signed: PeerClient raised nothing
    assert json.loads(reply.body)["invalid_params"][0]["name"] == "body"
