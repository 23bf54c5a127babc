"""Federated alerts on one node's PostGIS: an alert raised here is written to the outbox for the
entry's issuer and the peers whose jurisdiction holds the read, as the agreements allow; a
peer's alert is kept once with its origin; acknowledging or closing goes back to the nodes
concerned; a state change from a peer only moves an alert forward. Two live nodes:
test_alerts_live_federation."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from federation import agreements
from federation.inbox import receive
from federation.models import NodeIdentity, Peer
from hub.alerts.models import Alert
from hub.hotlists import service
from hub.hotlists.models import HotlistEntry
from hub.plates import store
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from hub.wiring import install_federation
from schemas.federation import (
    AlertData,
    AlertStateData,
    AlertStateName,
    EventType,
    Scope,
)
from schemas.hotlists import AlertOut, Category, HotlistEntryCreate
from tests.integration.test_hotlists_federation import (
    SALTILLO,
    agree,
    entry_data,
    event,
    inbox_peer,
    make_camera,
    make_node,
    make_peer,
    read_of,
    sent,
)

Headers = dict[str, str]
NOW = datetime.now(UTC).replace(microsecond=0)
MONCLOVA_AREA = (
    "SRID=4326;MULTIPOLYGON(((-101.5 26.8,-101.3 26.8,-101.3 27.0,-101.5 27.0,-101.5 26.8)))"
)


@pytest.fixture(autouse=True)
def wired() -> None:
    install_federation()
    agreements.install()


@pytest.fixture
def node(session: Session) -> NodeIdentity:
    return make_node(session)


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    return make_camera(session, box, org)


def _local_entry(session: Session, plate: str = "FRS4821") -> HotlistEntry:
    body = {
        "plate": plate,
        "category": "wanted",
        "reason": "orden de aprehensión",
        "legal_basis": "CNPP art. 141",
        "priority": 1,
        "source": "fge",
    }
    return service.create_entry(session, HotlistEntryCreate.model_validate(body))


def _alert_data(peer: Peer, **changes: Any) -> AlertData:
    base: dict[str, Any] = {
        "alert_id": uuid.uuid4(),
        "state": AlertStateName.OPEN,
        "priority": 1,
        "plate": "FRS4821",
        "read_id": uuid.uuid4(),
        "read_at": NOW - timedelta(seconds=5),
        "position": {"type": "Point", "coordinates": [-101.0, 25.42]},
        "camera_id": uuid.uuid4(),
        "camera_name": "Periférico Luis Echeverría",
        "evidence_url": "crops/FRS4821.jpg",
        "entry_plate": "FRS4821",
        "category": Category.STOLEN,
        "reason": "robo",
        "entry_origin_node": None,
        "entry_origin_id": None,
        "raised_at": NOW - timedelta(seconds=4),
    }
    return AlertData.model_validate(base | changes)


def test_an_alert_goes_to_the_entrys_issuer_and_the_peers_whose_jurisdiction_holds_it(
    session: Session, node: NodeIdentity, camera: Camera
) -> None:
    region = make_peer(session, "C4 Región")  # issued the entry; jurisdiction elsewhere
    torreon = make_peer(session, "C4 Torreón", jurisdiction=SALTILLO)
    monclova = make_peer(session, "C4 Monclova", jurisdiction=MONCLOVA_AREA)
    agree(session, region, [Scope.ALERTS], [Scope.HOTLISTS])
    for peer in (torreon, monclova):
        agree(session, peer, [Scope.ALERTS], [Scope.ALERTS])
    entry = entry_data()
    receive_ = event(region, EventType.HOTLIST_ENTRY, entry)
    receive(session, inbox_peer(region), [receive_], NOW)
    [alert] = store.store_read(session, read_of(camera, "FRS4821")).alerts
    [(data, peers)] = sent(session, EventType.ALERT)
    assert peers == sorted([region.id, torreon.id])
    published = AlertData.model_validate(data)
    assert (published.alert_id, published.camera_id) == (alert.id, camera.id)
    assert (published.entry_origin_node, published.entry_origin_id) == (
        region.node_id,
        entry.entry_id,
    )
    assert published.position.coordinates == [-101.0, 25.42]
    assert published.camera_name == "Blvd. Carranza"


def test_the_agreement_area_and_scope_limit_where_an_alert_goes(
    session: Session, node: NodeIdentity, camera: Camera
) -> None:
    torreon = make_peer(session, "C4 Torreón", jurisdiction=SALTILLO)
    saltillo = make_peer(session, "C4 Saltillo", jurisdiction=SALTILLO)
    ramos = make_peer(session, "C4 Ramos Arizpe", jurisdiction=SALTILLO)
    agree(session, torreon, [Scope.ALERTS], [], area=MONCLOVA_AREA)  # the read is outside the area
    agree(session, saltillo, [Scope.PLATE_READS], [])  # no alerts scope
    agree(session, ramos, [Scope.ALERTS], [], area=SALTILLO)
    _local_entry(session)
    [alert] = store.store_read(session, read_of(camera, "FRS4821")).alerts
    [(data, peers)] = sent(session, EventType.ALERT)
    assert peers == [ramos.id]
    published = AlertData.model_validate(data)
    # an entry issued here is named by this node's id and its id here
    assert (published.entry_origin_node, published.entry_origin_id) == (
        node.node_id,
        alert.entry_id,
    )


def test_a_peers_alert_is_kept_once_with_its_origin(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity
) -> None:
    region = make_peer(session, "C4 Región")
    agree(session, region, [Scope.HOTLISTS], [Scope.ALERTS], area=SALTILLO)
    local_entry = _local_entry(session)  # the alert names it: the region matched our entry
    data = _alert_data(region, entry_origin_node=node.node_id, entry_origin_id=local_entry.id)
    first = event(region, EventType.ALERT, data)
    again = event(region, EventType.ALERT, data)  # resent as a new event: still one alert
    result = receive(session, inbox_peer(region), [first, again], NOW)
    assert result.applied == [first.id, again.id]
    [row] = session.scalars(select(Alert).where(Alert.origin_node_id == region.node_id)).all()
    assert (row.origin_alert_id, row.camera_id, row.entry_id) == (
        data.alert_id,
        None,
        local_entry.id,
    )
    page = client.get("/api/v1/alerts", headers=admin).json()
    [out] = [AlertOut.model_validate(a) for a in page["items"]]
    assert (out.origin_node_id, out.camera_id, out.camera_name) == (
        region.node_id,
        None,
        "Periférico Luis Echeverría",
    )
    assert out.position is not None and out.position.coordinates == [-101.0, 25.42]
    outside = _alert_data(region, position={"type": "Point", "coordinates": [-101.4, 26.9]})
    late = event(region, EventType.ALERT, outside)
    result = receive(session, inbox_peer(region), [late], NOW)
    assert list(result.refused) == [late.id]  # outside the agreement's area: not let in


def _raise_here(session: Session, camera: Camera, *peers: Peer) -> Alert:
    _local_entry(session)
    [alert] = store.store_read(session, read_of(camera, "FRS4821")).alerts
    [(_, receivers)] = sent(session, EventType.ALERT)
    assert receivers == sorted(p.id for p in peers)
    return alert


def test_acknowledging_and_closing_an_alert_raised_here_tells_the_peers_that_got_it(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity, camera: Camera
) -> None:
    torreon = make_peer(session, "C4 Torreón", jurisdiction=SALTILLO)
    monclova = make_peer(session, "C4 Monclova", jurisdiction=MONCLOVA_AREA)
    for peer in (torreon, monclova):
        agree(session, peer, [Scope.ALERTS], [Scope.ALERTS])
    alert = _raise_here(session, camera, torreon)
    url = f"/api/v1/alerts/{alert.id}"
    acked = client.post(url + "/acknowledge", headers=admin).json()
    closed = client.post(url + "/close", headers=admin).json()
    assert client.post(url + "/close", headers=admin).json() == closed  # again: no change
    assert client.post(url + "/acknowledge", headers=admin).json()["state"] == "closed"
    assert (acked["state"], closed["state"]) == ("acknowledged", "closed")
    assert closed["closed_at"] is not None
    changes = sent(session, EventType.ALERT_STATE)
    assert [AlertStateData.model_validate(d).state for d, _ in changes] == [
        AlertStateName.ACKNOWLEDGED,
        AlertStateName.CLOSED,
    ]
    for data, peers in changes:
        change = AlertStateData.model_validate(data)
        assert (change.origin_node, change.alert_id, change.by_node) == (
            node.node_id,
            alert.id,
            node.node_id,
        )
        assert peers == [torreon.id]


def test_closing_a_peers_alert_tells_the_node_that_raised_it(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity
) -> None:
    region = make_peer(session, "C4 Región")
    agree(session, region, [Scope.ALERTS], [Scope.ALERTS])
    data = _alert_data(region)
    receive(session, inbox_peer(region), [event(region, EventType.ALERT, data)], NOW)
    row = session.scalars(select(Alert).where(Alert.origin_alert_id == data.alert_id)).one()
    assert client.post(f"/api/v1/alerts/{row.id}/close", headers=admin).status_code == 200
    [(change, peers)] = sent(session, EventType.ALERT_STATE)
    assert peers == [region.id]
    state = AlertStateData.model_validate(change)
    assert (state.origin_node, state.alert_id, state.state) == (
        region.node_id,
        data.alert_id,
        AlertStateName.CLOSED,
    )


def _state(peer: Peer, origin: uuid.UUID, alert_id: uuid.UUID, state: AlertStateName) -> Any:
    data = AlertStateData(
        origin_node=origin, alert_id=alert_id, state=state, changed_at=NOW, by_node=peer.node_id
    )
    return event(peer, EventType.ALERT_STATE, data)


def test_a_peers_state_change_moves_an_alert_forward_only_and_is_passed_on(
    session: Session, node: NodeIdentity, camera: Camera
) -> None:
    torreon = make_peer(session, "C4 Torreón", jurisdiction=SALTILLO)
    ramos = make_peer(session, "C4 Ramos Arizpe", jurisdiction=SALTILLO)
    for peer in (torreon, ramos):
        agree(session, peer, [Scope.ALERTS], [Scope.ALERTS])
    alert = _raise_here(session, camera, torreon, ramos)
    ack = AlertStateName.ACKNOWLEDGED
    closed = AlertStateName.CLOSED
    for state in (ack, ack, closed, ack):  # repeated and late changes change nothing
        change = _state(torreon, node.node_id, alert.id, state)
        assert receive(session, inbox_peer(torreon), [change], NOW).applied == [change.id]
    session.refresh(alert)
    assert (alert.state.value, alert.closed_at) == ("closed", NOW)
    forwarded = sent(session, EventType.ALERT_STATE)
    assert [(d["state"], d["by_node"], p) for d, p in forwarded] == [
        ("acknowledged", str(torreon.node_id), [ramos.id]),
        ("closed", str(torreon.node_id), [ramos.id]),
    ]


def test_a_state_change_from_a_node_not_concerned_is_refused(
    session: Session, node: NodeIdentity, camera: Camera
) -> None:
    torreon = make_peer(session, "C4 Torreón", jurisdiction=SALTILLO)
    monclova = make_peer(session, "C4 Monclova", jurisdiction=MONCLOVA_AREA)
    region = make_peer(session, "C4 Región")
    for peer in (torreon, monclova, region):
        agree(session, peer, [Scope.ALERTS], [Scope.ALERTS])
    alert = _raise_here(session, camera, torreon)
    theirs = _alert_data(region)
    receive(session, inbox_peer(region), [event(region, EventType.ALERT, theirs)], NOW)
    closed = AlertStateName.CLOSED
    for change in (
        _state(monclova, node.node_id, alert.id, closed),  # never sent it
        _state(monclova, region.node_id, theirs.alert_id, closed),  # not the origin
    ):
        result = receive(session, inbox_peer(monclova), [change], NOW)
        assert list(result.refused) == [change.id]
    session.refresh(alert)
    assert alert.state.value == "open"
    held = session.scalars(select(Alert).where(Alert.origin_alert_id == theirs.alert_id)).one()
    assert held.state.value == "open"
