"""Camera events and health changes leave through the outbox only to peers whose agreement has
`detections` / `camera_health` out and whose area holds the camera; raw messages, state
snapshots and unparsed topics never do."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from federation.models import Delivery, OutboxEvent
from hub.events.service import store_events
from hub.health import federation as health_federation
from hub.health.models import HealthEvent
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.enums import CameraStatus
from schemas.events import EventKind, NormalizedEvent
from schemas.federation import Scope
from tests.integration.test_hotlists_federation import SALTILLO, agree, make_camera, make_peer

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    return make_camera(session, box, org)


def _event(camera: Camera, kind: EventKind, initial: bool = False) -> NormalizedEvent:
    return NormalizedEvent(
        id=uuid.uuid4(),
        camera_id=camera.id,
        kind=kind,
        occurred_at=NOW,
        active=True,
        initial=initial,
        source="analytics",
        topic="tns1:RuleEngine/LineDetector/Crossed",
        subject={"line": "gate", "class": "person"},
        data={"direction": "in"},
        raw="<secret raw message/>" if kind is EventKind.UNKNOWN else None,
    )


def _outbox(session: Session) -> list[tuple[OutboxEvent, list[uuid.UUID]]]:
    rows = session.scalars(select(OutboxEvent)).all()
    return [
        (row, list(session.scalars(select(Delivery.peer_id).where(Delivery.outbox_id == row.id))))
        for row in rows
    ]


def test_detections_go_to_peers_with_the_scope_and_area(session: Session, camera: Camera) -> None:
    with_scope = make_peer(session, "Ramos Arizpe")
    agree(session, with_scope, [Scope.DETECTIONS], [], SALTILLO)
    elsewhere = make_peer(session, "Torreón")
    agree(session, elsewhere, [Scope.DETECTIONS], [], "SRID=4326;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))")
    without = make_peer(session, "Monclova")
    agree(session, without, [Scope.ALERTS], [])
    crossing = _event(camera, EventKind.LINE_CROSSING)
    snapshot = _event(camera, EventKind.MOTION, initial=True)
    unknown = _event(camera, EventKind.UNKNOWN)
    stored = store_events(session, [crossing, snapshot, unknown])
    assert len(stored) == 3
    sent = _outbox(session)
    assert [(row.id, peers) for row, peers in sent] == [(crossing.id, [with_scope.id])]
    row = sent[0][0]
    assert row.type == "org.c4hub.detection.v1"
    assert row.data["kind"] == "line_crossing"
    assert row.data["subject"] == {"line": "gate", "class": "person"}
    # A redelivered event is stored once and offered once.
    assert store_events(session, [crossing]) == []
    assert len(_outbox(session)) == 1


def test_health_changes_go_to_peers_with_camera_health(session: Session, camera: Camera) -> None:
    watcher = make_peer(session, "Ramos Arizpe")
    agree(session, watcher, [Scope.CAMERA_HEALTH], [], SALTILLO)
    other = make_peer(session, "Monclova")
    agree(session, other, [Scope.DETECTIONS], [])
    change = HealthEvent(
        id=uuid.uuid4(),
        camera_id=camera.id,
        occurred_at=NOW,
        previous=CameraStatus.ONLINE,
        status=CameraStatus.OFFLINE,
        findings=[],
    )
    session.add(change)
    session.flush()
    health_federation.publish(session, change)
    sent = _outbox(session)
    assert [(row.id, peers) for row, peers in sent] == [(change.id, [watcher.id])]
    assert sent[0][0].data["status"] == "offline"
    assert sent[0][0].data["previous"] == "online"
    assert sent[0][0].data["position"]["coordinates"] == [-101.0, 25.42]
