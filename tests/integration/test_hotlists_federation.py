"""Federated hotlists on one node's PostGIS: entries issued here are written to the outbox for
the peers whose agreement has `hotlists` out (created, revoked, imported in bulk, backfilled
when an agreement becomes active); entries a peer publishes arrive through the inbox, are
updated and revoked only by their issuer, never re-published, and match reads within their
window. Two live nodes: test_alerts_live_federation."""

import csv
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from federation import agreements
from federation.inbox import InboxPeer, receive
from federation.models import Agreement, Delivery, NodeIdentity, OutboxEvent, Peer, Side
from hub.hotlists import service
from hub.hotlists.importer import ImportOptions, import_entries
from hub.hotlists.models import HotlistEntry
from hub.plates import store
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from hub.wiring import install_federation
from schemas.analytics import PlateRead
from schemas.camera import CameraCreate
from schemas.federation import (
    CloudEvent,
    EventType,
    HotlistEntryData,
    HotlistEntryRevokedData,
    PeerState,
    Scope,
    node_source,
)
from schemas.hotlists import Category, HotlistEntryCreate, ListKind, Tolerance

Headers = dict[str, str]
NOW = datetime.now(UTC).replace(microsecond=0)
NODE_NAME = "C4 Región Sureste"
# A jurisdiction / agreement area around Saltillo (lon -101.0, lat 25.42).
SALTILLO = "SRID=4326;MULTIPOLYGON(((-101.1 25.3,-100.8 25.3,-100.8 25.6,-101.1 25.6,-101.1 25.3)))"


@pytest.fixture(autouse=True)
def wired() -> None:
    install_federation()
    agreements.install()


def make_node(session: Session) -> NodeIdentity:
    """This node's identity, as `c4hub init` leaves it (keys aside)."""
    row = NodeIdentity(
        singleton=1, node_id=uuid.uuid4(), name=NODE_NAME, api_base="http://127.0.0.1:9/"
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def node(session: Session) -> NodeIdentity:
    return make_node(session)


def make_peer(session: Session, name: str, jurisdiction: str | None = None) -> Peer:
    peer = Peer(
        id=uuid.uuid4(),
        node_id=uuid.uuid4(),
        name=name,
        api_base="http://127.0.0.1:9/",
        jurisdiction=jurisdiction,
        state=PeerState.ACTIVE,
        fingerprint="0" * 64,
    )
    session.add(peer)
    session.flush()
    return peer


def agree(
    session: Session,
    peer: Peer,
    out: list[Scope],
    into: list[Scope],
    area: str | None = None,
    accepted: bool = True,
) -> Agreement:
    row = Agreement(
        id=uuid.uuid4(),
        peer_id=peer.id,
        proposed_by=Side.PEER,
        scopes_out=[s.value for s in out],
        scopes_in=[s.value for s in into],
        area=area,
        purpose="vehículos robados",
        legal_basis="convenio 2026/17",
        expires_at=NOW + timedelta(days=90),
        local_accepted_at=NOW if accepted else None,
        peer_accepted_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def inbox_peer(peer: Peer) -> InboxPeer:
    return InboxPeer(peer_id=peer.id, node_id=peer.node_id, name=peer.name)


def event(
    peer: Peer, type_: EventType, data: BaseModel, time: datetime | None = None
) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=node_source(peer.node_id),
        type=type_,
        time=time or datetime.now(UTC),
        data=data.model_dump(mode="json"),
    )


def sent(session: Session, type_: EventType) -> list[tuple[dict[str, Any], list[uuid.UUID]]]:
    """The outbox events of a type (oldest first) with the peers each is delivered to."""
    rows = session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == type_.value).order_by(OutboxEvent.time)
    ).all()
    return [
        (
            row.data,
            sorted(session.scalars(select(Delivery.peer_id).where(Delivery.outbox_id == row.id))),
        )
        for row in rows
    ]


def make_camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    """A camera in Saltillo (inside SALTILLO)."""
    data = CameraCreate.model_validate(
        {"name": "Blvd. Carranza", "location": {"type": "Point", "coordinates": [-101.0, 25.42]}}
    )
    return create_camera(session, box, data, org.id)


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    return make_camera(session, box, org)


def read_of(camera: Camera, plate: str, at: datetime | None = None) -> PlateRead:
    return PlateRead(
        id=uuid.uuid4(),
        camera_id=camera.id,
        read_at=at or datetime.now(UTC),
        plate=plate,
        confidence=0.95,
        evidence=f"crops/{plate}.jpg",
    )


def entry_data(plate: str = "FRS4821", **changes: Any) -> HotlistEntryData:
    base: dict[str, Any] = {
        "entry_id": uuid.uuid4(),
        "plate": plate,
        "kind": ListKind.BLACK,
        "category": Category.STOLEN,
        "reason": "robo con violencia",
        "legal_basis": "CNPP art. 251",
        "priority": 2,
        "valid_from": NOW - timedelta(days=1),
        "valid_until": None,
        "source": "pgr-nacional",
        "tolerance": Tolerance.EXACT,
        "issuing_agency": "Fiscalía General del Estado",
    }
    return HotlistEntryData.model_validate(base | changes)


def _body(plate: str, **extra: Any) -> dict[str, Any]:
    return {
        "plate": plate,
        "category": "stolen",
        "reason": "robo",
        "legal_basis": "CNPP art. 251",
        "source": "fge-coahuila",
        **extra,
    }


# --- entries issued here ---------------------------------------------------------------------


def test_an_entry_issued_here_goes_to_the_peers_with_hotlists_out(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity
) -> None:
    torreon = make_peer(session, "C4 Torreón")
    monclova = make_peer(session, "C4 Monclova")
    agree(session, torreon, [Scope.HOTLISTS], [Scope.ALERTS])
    agree(session, monclova, [Scope.ALERTS], [Scope.HOTLISTS])  # hotlists only come in
    r = client.post("/api/v1/hotlists/entries", headers=admin, json=_body("FRS4821"))
    assert r.status_code == 201, r.text
    assert r.json()["issuing_agency"] == NODE_NAME  # the default: this node's name
    assert r.json()["origin_node_id"] is None
    [(data, peers)] = sent(session, EventType.HOTLIST_ENTRY)
    assert peers == [torreon.id]
    published = HotlistEntryData.model_validate(data)
    assert (published.entry_id, published.plate) == (uuid.UUID(r.json()["id"]), "FRS4821")
    assert published.issuing_agency == NODE_NAME


def test_deleting_an_entry_issued_here_publishes_its_revocation(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity
) -> None:
    torreon = make_peer(session, "C4 Torreón")
    agree(session, torreon, [Scope.HOTLISTS], [])
    body = _body("FRS4821", issuing_agency="Policía Federal")
    entry = client.post("/api/v1/hotlists/entries", headers=admin, json=body).json()
    assert entry["issuing_agency"] == "Policía Federal"
    url = f"/api/v1/hotlists/entries/{entry['id']}"
    assert client.delete(url, headers=admin).status_code == 204
    [(data, peers)] = sent(session, EventType.HOTLIST_ENTRY_REVOKED)
    assert (data["entry_id"], peers) == (entry["id"], [torreon.id])


def test_without_an_agreement_nothing_leaves(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity
) -> None:
    torreon = make_peer(session, "C4 Torreón")
    agree(session, torreon, [Scope.HOTLISTS], [], accepted=False)  # proposed, not active
    entry = client.post("/api/v1/hotlists/entries", headers=admin, json=_body("FRS4821")).json()
    client.delete(f"/api/v1/hotlists/entries/{entry['id']}", headers=admin)
    assert sent(session, EventType.HOTLIST_ENTRY) == []
    assert sent(session, EventType.HOTLIST_ENTRY_REVOKED) == []


# --- entries a peer issued -------------------------------------------------------------------


def _held(session: Session, peer: Peer, entry_id: uuid.UUID) -> HotlistEntry | None:
    session.expire_all()
    return session.scalars(
        select(HotlistEntry).where(
            HotlistEntry.origin_node_id == peer.node_id, HotlistEntry.origin_entry_id == entry_id
        )
    ).one_or_none()


def test_a_peers_entry_is_kept_updated_and_revoked_only_as_its_issuer_says(
    session: Session, node: NodeIdentity, camera: Camera
) -> None:
    region = make_peer(session, "C4 Región")
    torreon = make_peer(session, "C4 Torreón")
    agree(session, region, [Scope.ALERTS], [Scope.HOTLISTS])
    agree(session, torreon, [Scope.HOTLISTS], [Scope.ALERTS])
    peer = inbox_peer(region)
    first = entry_data()
    created = event(region, EventType.HOTLIST_ENTRY, first, NOW)
    result = receive(session, peer, [created], NOW)
    assert result.applied == [created.id]
    assert receive(session, peer, [created], NOW).duplicates == [created.id]
    held = _held(session, region, first.entry_id)
    assert held is not None
    assert (held.plate, held.priority, held.issuing_agency) == ("FRS4821", 2, first.issuing_agency)
    assert sent(session, EventType.HOTLIST_ENTRY) == []  # never re-published to Torreón

    newer = first.model_copy(update={"priority": 1, "reason": "robo, con arma"})
    older = first.model_copy(update={"priority": 5})
    receive(session, peer, [event(region, EventType.HOTLIST_ENTRY, newer, NOW + timedelta(1))], NOW)
    receive(session, peer, [event(region, EventType.HOTLIST_ENTRY, older, NOW)], NOW)  # late
    held = _held(session, region, first.entry_id)
    assert held is not None and (held.priority, held.reason) == (1, "robo, con arma")
    assert store.store_read(session, read_of(camera, "FRS4821")).alerts  # it matches reads

    revoked = HotlistEntryRevokedData(entry_id=first.entry_id, revoked_at=NOW)
    receive(session, peer, [event(region, EventType.HOTLIST_ENTRY_REVOKED, revoked)], NOW)
    assert _held(session, region, first.entry_id) is None
    assert store.store_read(session, read_of(camera, "FRS4821")).alerts == []


def test_only_the_issuer_revokes_and_only_with_hotlists_in(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity
) -> None:
    region = make_peer(session, "C4 Región")
    other = make_peer(session, "C4 Monclova")
    agree(session, region, [], [Scope.HOTLISTS])
    agree(session, other, [], [Scope.ALERTS])
    data = entry_data()
    receive(session, inbox_peer(region), [event(region, EventType.HOTLIST_ENTRY, data)], NOW)
    held = _held(session, region, data.entry_id)
    assert held is not None
    # a peer without hotlists in is refused; another peer's revocation names none of its own
    refused = receive(
        session, inbox_peer(other), [event(other, EventType.HOTLIST_ENTRY, data)], NOW
    )
    assert list(refused.refused.values()) == [
        "no active agreement lets hotlists in from this node here"
    ]
    revoke = HotlistEntryRevokedData(entry_id=data.entry_id, revoked_at=NOW)
    receive(
        session, inbox_peer(other), [event(other, EventType.HOTLIST_ENTRY_REVOKED, revoke)], NOW
    )
    assert _held(session, region, data.entry_id) is not None
    r = client.delete(f"/api/v1/hotlists/entries/{held.id}", headers=admin)
    assert r.status_code == 409
    assert "issued by C4 Región" in r.json()["detail"]
    entry = client.get(f"/api/v1/hotlists/entries/{held.id}", headers=admin).json()
    assert (entry["origin_node_id"], entry["issuing_agency"]) == (
        str(region.node_id),
        data.issuing_agency,
    )


def test_a_peers_entry_matches_only_within_its_validity_window(
    session: Session, node: NodeIdentity, camera: Camera
) -> None:
    region = make_peer(session, "C4 Región")
    agree(session, region, [], [Scope.HOTLISTS])
    lapsed = entry_data(
        "EXP0001", valid_from=NOW - timedelta(days=3), valid_until=NOW - timedelta(days=1)
    )
    receive(session, inbox_peer(region), [event(region, EventType.HOTLIST_ENTRY, lapsed)], NOW)
    assert store.store_read(session, read_of(camera, "EXP0001")).alerts == []  # expired now
    back_then = read_of(camera, "EXP0001", at=NOW - timedelta(days=2))
    [alert] = store.store_read(session, back_then).alerts  # a read made while it was valid
    assert (alert.entry_origin_node, alert.entry_origin_id) == (region.node_id, lapsed.entry_id)


# --- activation and bulk ---------------------------------------------------------------------


def test_an_agreement_becoming_active_backfills_the_valid_local_entries(
    session: Session, node: NodeIdentity
) -> None:
    region = make_peer(session, "C4 Región")
    torreon = make_peer(session, "C4 Torreón")
    agree(session, region, [], [Scope.HOTLISTS])
    receive(
        session, inbox_peer(region), [event(region, EventType.HOTLIST_ENTRY, entry_data())], NOW
    )
    valid = service.create_entry(session, HotlistEntryCreate.model_validate(_body("VAL0001")))
    lapsed = _body("OLD0001", valid_from=NOW - timedelta(days=9), valid_until=NOW - timedelta(1))
    service.create_entry(session, HotlistEntryCreate.model_validate(lapsed))
    proposed = agree(session, torreon, [Scope.HOTLISTS], [Scope.ALERTS], accepted=False)
    assert sent(session, EventType.HOTLIST_ENTRY) == []

    agreements.accept(session, proposed.id, datetime.now(UTC))
    [(data, peers)] = sent(session, EventType.HOTLIST_ENTRY)  # not the lapsed, not the peer's
    assert (data["entry_id"], peers) == (str(valid.id), [torreon.id])
    assert HotlistEntryData.model_validate(data).issuing_agency == NODE_NAME
    # delivered after the agreement's control event, which makes Torreón accept them
    order = session.execute(
        select(OutboxEvent.type)
        .join(Delivery, Delivery.outbox_id == OutboxEvent.id)
        .where(Delivery.peer_id == torreon.id)
        .order_by(Delivery.created_at, OutboxEvent.time, Delivery.outbox_id)
    ).scalars()
    assert list(order) == [EventType.AGREEMENT.value, EventType.HOTLIST_ENTRY.value]


def _csv(path: Path, plates: list[str]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["plate", "category", "reason", "legal_basis"])
        writer.writerows([[p, "stolen", "robo", "CNPP art. 251"] for p in plates])
    return path


def test_an_import_publishes_in_bulk_and_a_replace_revokes_the_old_list(
    session: Session, node: NodeIdentity, tmp_path: Path
) -> None:
    torreon = make_peer(session, "C4 Torreón")
    monclova = make_peer(session, "C4 Monclova")
    for peer in (torreon, monclova):
        agree(session, peer, [Scope.HOTLISTS], [])
    region = make_peer(session, "C4 Región")
    agree(session, region, [], [Scope.HOTLISTS])
    theirs = entry_data(source="nacional")  # same source name, but the region's entry
    receive(session, inbox_peer(region), [event(region, EventType.HOTLIST_ENTRY, theirs)], NOW)
    conn = session.connection()
    options = ImportOptions(source="nacional", issuing_agency="Policía Federal")
    first = import_entries(conn, _csv(tmp_path / "a.csv", ["AAA111", "BBB222"]), options)
    assert (first.entries, first.published) == (2, 4)
    events = sent(session, EventType.HOTLIST_ENTRY)
    assert sorted(d["plate"] for d, _ in events) == ["AAA111", "BBB222"]
    assert all(peers == sorted([torreon.id, monclova.id]) for _, peers in events)
    for data, _ in events:
        assert HotlistEntryData.model_validate(data).issuing_agency == "Policía Federal"

    replaced = import_entries(
        conn, _csv(tmp_path / "b.csv", ["CCC333"]), ImportOptions(source="nacional", replace=True)
    )
    assert (replaced.replaced, replaced.published) == (2, 4 + 2)
    revoked = {d["entry_id"] for d, _ in sent(session, EventType.HOTLIST_ENTRY_REVOKED)}
    assert revoked == {d["entry_id"] for d, _ in events}
    assert _held(session, region, theirs.entry_id) is not None  # a peer's entry stays


def test_before_init_an_entry_has_no_agency_and_nothing_is_published(session: Session) -> None:
    """Before `c4hub init` there is no node name: the entry has no agency, and nothing is
    published (no node, no peers)."""
    row = service.create_entry(session, HotlistEntryCreate.model_validate(_body("PRE0001")))
    assert row.issuing_agency is None
    assert sent(session, EventType.HOTLIST_ENTRY) == []


def test_changing_an_entry_issued_here_publishes_the_new_version(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity
) -> None:
    torreon = make_peer(session, "C4 Torreón")
    agree(session, torreon, [Scope.HOTLISTS], [])
    entry = client.post("/api/v1/hotlists/entries", headers=admin, json=_body("FRS4821")).json()
    url = f"/api/v1/hotlists/entries/{entry['id']}"
    until = (NOW + timedelta(days=30)).isoformat()
    r = client.patch(url, headers=admin, json={"priority": 1, "valid_until": until})
    assert r.status_code == 200, r.text
    assert (r.json()["priority"], r.json()["reason"]) == (1, "robo")
    assert (
        client.patch(url, headers=admin, json={"valid_until": None}).json()["valid_until"] is None
    )
    versions = [
        HotlistEntryData.model_validate(d) for d, _ in sent(session, EventType.HOTLIST_ENTRY)
    ]
    assert [(v.priority, v.valid_until) for v in versions] == [
        (3, None),
        (1, NOW + timedelta(days=30)),
        (1, None),
    ]
    assert client.patch(url, headers=admin, json={"priority": None}).json()["priority"] == 1
    for body, status in (
        ({"priority": 0}, 422),
        ({"plate": "X1"}, 422),
        ({"valid_until": "2000-01-01T00:00:00Z"}, 409),  # before the entry's valid_from
    ):
        assert client.patch(url, headers=admin, json=body).status_code == status, body


def test_a_peers_entry_cannot_be_changed_here(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity
) -> None:
    region = make_peer(session, "C4 Región")
    agree(session, region, [], [Scope.HOTLISTS])
    data = entry_data()
    receive(session, inbox_peer(region), [event(region, EventType.HOTLIST_ENTRY, data)], NOW)
    held = _held(session, region, data.entry_id)
    assert held is not None
    url = f"/api/v1/hotlists/entries/{held.id}"
    r = client.patch(url, headers=admin, json={"priority": 5})
    assert (r.status_code, "issued by C4 Región" in r.json()["detail"]) == (409, True)
    assert client.patch(f"/api/v1/hotlists/entries/{uuid.uuid4()}", headers=admin,
                        json={"priority": 5}).status_code == 404  # fmt: skip
