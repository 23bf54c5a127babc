"""Federated queries on real PostGIS: what a node answers a peer (only cameras on the map,
only inside the agreement's area, refused without the scope, audited), the audit log API,
and three live nodes on loopback answering, refusing, timing out and unreachable."""

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg.errors
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from federation.answers import answer, answer_peer
from federation.client import PeerClient, peer_target
from federation.identity import SigningKey, encode_public_key
from federation.models import Agreement, AuditEntry, Peer, PeerKey, Side
from federation.node import current_fingerprint, init_node, signing_key
from federation.peers import add_peer
from federation.query_router import bound_to_deadline
from hub.auth.service import create_token
from hub.enrolment.service import enrol, withdraw
from hub.plates import store
from hub.registry import organizations as org_service
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.analytics import PlateRead
from schemas.camera import CameraCreate
from schemas.enrolment import ConsentTier, EnrolmentCreate
from schemas.enums import OrganizationKind, Role
from schemas.federation import (
    AuditPage,
    FederatedQueryResult,
    KeyStatus,
    PeerAnswerStatus,
    PeerQuery,
    PeerState,
    QueryParams,
    Scope,
)
from schemas.geo import Point
from schemas.organization import OrganizationCreate
from tests.support import fresh_database, live_node

Headers = dict[str, str]
NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=2)
PLATE = "ABC1234"
# An agreement area around lon -101.00 (Saltillo-ish) that leaves out lon -100.90.
AREA = (
    "SRID=4326;MULTIPOLYGON(((-101.05 25.35,-100.95 25.35,-100.95 25.45,-101.05 25.45,"
    "-101.05 25.35)))"
)


def _camera(session: Session, box: CredentialBox, owner: Organization, lon: float) -> Camera:
    data = CameraCreate.model_validate(
        {
            "location": {"type": "Point", "coordinates": [lon, 25.4]},
            "name": f"cam {lon}",
            "stream_uri": "rtsp://10.0.0.9/secret",
        }
    )
    return create_camera(session, box, data, owner.id)


def _read(session: Session, camera: Camera, minutes: int, plate: str = PLATE) -> uuid.UUID:
    read = PlateRead(
        id=uuid.uuid4(),
        camera_id=camera.id,
        read_at=T0 + timedelta(minutes=minutes),
        plate=plate,
        confidence=0.9,
    )
    assert store.store_read(session, read).stored
    return read.id


def _peer(session: Session, name: str, url: str = "http://127.0.0.1:9/") -> Peer:
    key = SigningKey.generate()
    peer = Peer(
        id=uuid.uuid4(),
        node_id=uuid.uuid4(),
        name=name,
        api_base=url,
        state=PeerState.ACTIVE,
        fingerprint="0" * 64,
    )
    session.add(peer)
    session.flush()
    session.add(
        PeerKey(
            key_id=key.key_id,
            peer_id=peer.id,
            public_key=encode_public_key(key.public_key),
            status=KeyStatus.CURRENT,
            valid_from=NOW - timedelta(days=1),
        )
    )
    session.flush()
    return peer


def _agree(
    session: Session,
    peer_id: uuid.UUID,
    out: list[Scope],
    into: list[Scope],
    area: str | None = None,
    agreement_id: uuid.UUID | None = None,
) -> Agreement:
    row = Agreement(
        id=agreement_id or uuid.uuid4(),
        peer_id=peer_id,
        proposed_by=Side.LOCAL,
        scopes_out=[s.value for s in out],
        scopes_in=[s.value for s in into],
        area=area,
        purpose="investigations",
        legal_basis="convenio 2025",
        expires_at=NOW + timedelta(days=365),
        local_accepted_at=NOW,
        peer_accepted_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def _query(kind: str = "plate_sightings", **params: Any) -> PeerQuery:
    if kind == "plate_sightings":
        params.setdefault("plate", PLATE)
    return PeerQuery(
        query_id=uuid.uuid4(),
        query=QueryParams.model_validate({"kind": kind, **params}),
        purpose="robbery investigation",
        case_number="CASE-2025-001",
    )


# --- answering, on one database -------------------------------------------------------------


@pytest.fixture
def sites(session: Session, box: CredentialBox, org: Organization) -> tuple[Camera, Camera]:
    """A camera inside the agreement area and one outside it, each with a read of PLATE."""
    inside, outside = _camera(session, box, org, -101.0), _camera(session, box, org, -100.9)
    _read(session, inside, 10)
    _read(session, outside, 20)
    _read(session, inside, 30, plate="ZZZ9999")
    return inside, outside


def test_sightings_are_the_plates_reads_in_the_window_oldest_first(
    session: Session, sites: tuple[Camera, Camera]
) -> None:
    inside, outside = sites
    items = answer(session, _query().query, None)
    assert [(i["camera_id"], i["plate"]) for i in items] == [
        (str(inside.id), PLATE),
        (str(outside.id), PLATE),
    ]
    assert items[0]["position"] == {"type": "Point", "coordinates": [-101.0, 25.4]}
    assert items[0]["camera_name"] == "cam -101.0"
    window = {"from": T0 + timedelta(minutes=15), "to": T0 + timedelta(minutes=25)}
    assert [
        i["camera_id"] for i in answer(session, _query("plate_sightings", **window).query, None)
    ] == [str(outside.id)]


def test_sightings_leave_out_cameras_off_the_map(
    session: Session, box: CredentialBox, make_org: Callable[..., Organization]
) -> None:
    shop = make_org("shop", OrganizationKind.PRIVATE_BUSINESS)
    data = EnrolmentCreate(
        location=Point(type="Point", coordinates=[-101.0, 25.4]),
        consent_tier=ConsentTier.LIVE_ALWAYS,
    )
    enrolment, _ = enrol(session, box, shop.id, data)
    camera = session.get(Camera, enrolment.camera_id)
    assert camera is not None
    _read(session, camera, 5, plate="SHOP111")
    withdraw(session, enrolment)
    assert answer(session, _query(plate="SHOP111").query, None) == []


def test_a_peer_gets_only_what_lies_in_the_agreement_area_and_it_is_audited(
    session: Session, sites: tuple[Camera, Camera]
) -> None:
    inside, _ = sites
    peer = _peer(session, "Torreón")
    _agree(session, peer.id, [Scope.PLATE_READS], [], area=AREA)
    query = _query()
    outcome = answer_peer(session, peer.id, peer.node_id, query, datetime.now(UTC))
    assert outcome.allowed
    assert [i["camera_id"] for i in outcome.items] == [str(inside.id)]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.query_id == query.query_id)).one()
    assert (entry.role, entry.actor, entry.peer_node_id) == (
        "answered",
        str(peer.node_id),
        peer.node_id,
    )
    assert (entry.purpose, entry.case_number) == ("robbery investigation", "CASE-2025-001")
    assert (entry.status, entry.result_count, entry.kind) == ("ok", 1, "plate_sightings")
    assert entry.params == {"kind": "plate_sightings", "plate": PLATE}


def test_a_peer_without_the_scope_is_refused_and_that_is_audited(
    session: Session, sites: tuple[Camera, Camera]
) -> None:
    peer = _peer(session, "Monclova")
    _agree(session, peer.id, [Scope.CAMERA_REGISTRY], [Scope.PLATE_READS])  # the wrong way
    query = _query()
    outcome = answer_peer(session, peer.id, peer.node_id, query, datetime.now(UTC))
    assert (outcome.allowed, outcome.items) == (False, [])
    assert outcome.detail is not None and "plate_reads" in outcome.detail
    entry = session.scalars(select(AuditEntry).where(AuditEntry.query_id == query.query_id)).one()
    assert (entry.status, entry.result_count) == ("refused", 0)


def test_a_suspended_or_expired_agreement_refuses(
    session: Session, sites: tuple[Camera, Camera]
) -> None:
    peer = _peer(session, "Acuña")
    row = _agree(session, peer.id, [Scope.PLATE_READS], [])
    row.suspended_by = Side.PEER
    session.flush()
    assert not answer_peer(session, peer.id, peer.node_id, _query(), NOW).allowed
    row.suspended_by = None
    session.flush()
    assert answer_peer(session, peer.id, peer.node_id, _query(), NOW).allowed
    assert not answer_peer(
        session, peer.id, peer.node_id, _query(), NOW + timedelta(days=400)
    ).allowed


def test_cameras_near_are_the_map_cameras_within_the_radius_nearest_first(
    session: Session, sites: tuple[Camera, Camera], box: CredentialBox, org: Organization
) -> None:
    inside, outside = sites
    far = _camera(session, box, org, -100.5)  # ~50 km away
    here = {"type": "Point", "coordinates": [-100.99, 25.4]}
    items = answer(session, _query("cameras_near", point=here, radius_m=20_000).query, None)
    assert [i["camera_id"] for i in items] == [str(inside.id), str(outside.id)]
    assert str(far.id) not in {i["camera_id"] for i in items}
    assert 900 < items[0]["distance_m"] < 1100  # 0.01 degree of longitude at 25.4° N
    assert not {"stream_uri", "snapshot_uri", "device_uri", "credentials"} & set(items[0])
    peer = _peer(session, "Parras")
    _agree(session, peer.id, [Scope.CAMERA_REGISTRY], [], area=AREA)
    query = _query("cameras_near", point=here, radius_m=20_000)
    outcome = answer_peer(session, peer.id, peer.node_id, query, NOW)
    assert [i["camera_id"] for i in outcome.items] == [str(inside.id)]


def test_an_answer_is_bounded_by_the_askers_deadline(session: Session) -> None:
    """The peer route sets this before answering: past the deadline PostgreSQL cancels."""
    bound_to_deadline(session, 0.05)
    with pytest.raises(OperationalError) as caught:
        session.execute(select(func.pg_sleep(1)))
    assert isinstance(caught.value.orig, psycopg.errors.QueryCanceled)


# --- the API on one node ----------------------------------------------------------------------


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "query": {"kind": "plate_sightings", "plate": PLATE},
        "purpose": "robbery investigation",
        "case_number": "CASE-7",
        **extra,
    }


def test_a_query_needs_purpose_and_case_number(
    client: TestClient, auth: Callable[..., Headers]
) -> None:
    for missing in ("purpose", "case_number"):
        body = _body()
        del body[missing]
        r = client.post("/api/v1/federation/queries", json=body, headers=auth(Role.OPERATOR))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert missing in r.json()["detail"]


def test_only_admins_and_operators_query_and_only_admins_read_the_audit(
    client: TestClient, auth: Callable[..., Headers]
) -> None:
    for role in (Role.PLANNER,):
        r = client.post("/api/v1/federation/queries", json=_body(), headers=auth(role))
        assert r.status_code == 403
    assert client.get("/api/v1/audit", headers=auth(Role.OPERATOR)).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


def test_a_query_without_parameters_for_its_kind_is_422(
    client: TestClient, auth: Callable[..., Headers], session: Session, settings: Settings
) -> None:
    init_node(session, settings.data_dir, "Saltillo", "http://127.0.0.1:1/", None)
    body = _body(query={"kind": "cameras_near", "radius_m": 100})
    r = client.post("/api/v1/federation/queries", json=body, headers=auth(Role.OPERATOR))
    assert r.status_code == 422
    assert "point" in r.json()["detail"]


def test_with_no_peers_the_query_answers_locally_and_audits_the_asking(
    client: TestClient,
    auth: Callable[..., Headers],
    session: Session,
    settings: Settings,
    sites: tuple[Camera, Camera],
) -> None:
    me = init_node(session, settings.data_dir, "Saltillo", "http://127.0.0.1:1/", None)
    r = client.post("/api/v1/federation/queries", json=_body(), headers=auth(Role.OPERATOR))
    assert r.status_code == 200, r.text
    result = FederatedQueryResult.model_validate(r.json())
    assert result.peers == []
    assert {(i["node_id"], i["node_name"]) for i in result.items} == {(str(me.node_id), "Saltillo")}
    assert len(result.items) == 2
    page = _audit(client, auth(Role.ADMIN), case_number="CASE-7")
    assert [(e.role, e.peer_node_id, e.status, e.result_count) for e in page.items] == [
        ("asked", None, "ok", 2)
    ]
    assert page.items[0].query_id == result.query_id
    assert page.items[0].actor.endswith("(operator)")


def _audit(client: TestClient, headers: Headers, **params: Any) -> AuditPage:
    r = client.get("/api/v1/audit", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return AuditPage.model_validate(r.json())


def test_the_audit_log_filters_by_case_and_time_and_pages(
    client: TestClient, auth: Callable[..., Headers], session: Session
) -> None:
    peer = _peer(session, "Piedras Negras")
    for case in ("A-1", "A-1", "B-2"):
        query = _query().model_copy(update={"case_number": case})
        answer_peer(session, peer.id, peer.node_id, query, NOW)
    admin = auth(Role.ADMIN)
    assert len(_audit(client, admin, case_number="A-1").items) == 2
    assert [e.case_number for e in _audit(client, admin, case_number="B-2").items] == ["B-2"]
    first = _audit(client, admin, case_number="A-1", limit=1)
    assert first.next_cursor is not None
    second = _audit(client, admin, case_number="A-1", limit=1, cursor=first.next_cursor)
    assert second.items[0].id < first.items[0].id and second.next_cursor is None
    at = first.items[0].at
    assert (
        _audit(
            client, admin, case_number="A-1", **{"from": (at + timedelta(hours=1)).isoformat()}
        ).items
        == []
    )
    assert (
        len(
            _audit(client, admin, case_number="A-1", to=(at + timedelta(hours=1)).isoformat()).items
        )
        == 2
    )


# --- three live nodes --------------------------------------------------------------------------


@dataclass
class Node:
    name: str
    url: str
    data_dir: Path
    engine: Engine
    box: CredentialBox

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def token(self, role: Role) -> Headers:
        with self.session() as s:
            token = create_token(s, role, None)
            s.commit()
        return {"Authorization": f"Bearer {token}"}


@contextmanager
def _node(name: str, root: Path) -> Iterator[Node]:
    secret = Fernet.generate_key().decode()
    data_dir = root / name.lower()
    data_dir.mkdir()
    with fresh_database() as url:
        settings = Settings(database_url=url, data_dir=data_dir, secret_key=secret)
        engine = create_engine(url)
        try:
            with live_node(settings) as base:
                with Session(engine) as s:
                    init_node(s, data_dir, name, base + "/", None)
                    s.commit()
                yield Node(name, base + "/", data_dir, engine, CredentialBox(secret))
        finally:
            engine.dispose()


def _fingerprint(node: Node) -> str:
    with node.session() as s:
        return current_fingerprint(s, node.data_dir)


def _peer_both_ways(a: Node, b: Node) -> tuple[uuid.UUID, uuid.UUID]:
    """a and b each add the other (by URL and fingerprint); their peer ids: (b at a, a at b)."""
    ids = []
    for here, there in ((a, b), (b, a)):
        with here.session() as s, httpx.Client() as http:
            ids.append(add_peer(s, http, there.url, _fingerprint(there)).id)
            s.commit()
    return ids[0], ids[1]


def _mirror_agreement(
    asker: Node,
    answerer: Node,
    ids: tuple[uuid.UUID, uuid.UUID],
    given: list[Scope],
    area: str | None,
) -> None:
    """The asker expects plate reads and the camera registry; the answerer gives `given`."""
    agreement_id = uuid.uuid4()
    wanted = [Scope.PLATE_READS, Scope.CAMERA_REGISTRY]
    with asker.session() as s:
        _agree(s, ids[0], [], wanted, agreement_id=agreement_id)
        s.commit()
    with answerer.session() as s:
        _agree(s, ids[1], given, [], area=area, agreement_id=agreement_id)
        s.commit()


def _site(node: Node, lons: list[float]) -> list[Camera]:
    with node.session() as s:
        org = org_service.create_organization(
            s,
            OrganizationCreate(
                slug=node.name.lower(), name=node.name, kind=OrganizationKind.DISTRICT
            ),
        )
        cameras = [_camera(s, node.box, org, lon) for lon in lons]
        for n, camera in enumerate(cameras):
            _read(s, camera, 10 * (n + 1))
        s.commit()
        return cameras


@contextmanager
def _silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a peer hung mid-request."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@dataclass
class Network:
    home: Node
    answers: Node
    refuses: Node
    cameras: dict[str, list[Camera]]
    silent_peer: uuid.UUID
    gone_peer: uuid.UUID


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """Saltillo asks; Torreón answers inside its agreement's area; Monclova gives the camera
    registry but not plate reads; a peer that never answers; one that is not there at all."""
    root = tmp_path_factory.mktemp("federated-queries")
    with ExitStack() as stack:
        home = stack.enter_context(_node("Saltillo", root))
        answers = stack.enter_context(_node("Torreon", root))
        refuses = stack.enter_context(_node("Monclova", root))
        silent_url = stack.enter_context(_silent_server())
        both = [Scope.PLATE_READS, Scope.CAMERA_REGISTRY]
        _mirror_agreement(home, answers, _peer_both_ways(home, answers), both, AREA)
        _mirror_agreement(home, refuses, _peer_both_ways(home, refuses), both[1:], None)
        with home.session() as s:
            silent = _peer(s, "Silent", silent_url)
            with closing(socket.socket()) as probe:
                probe.bind(("127.0.0.1", 0))  # a port nothing listens on
                gone = _peer(s, "Gone", f"http://127.0.0.1:{probe.getsockname()[1]}/")
            for peer in (silent, gone):
                _agree(s, peer.id, [], [Scope.PLATE_READS, Scope.CAMERA_REGISTRY])
            s.commit()
        cameras = {
            "home": _site(home, [-101.01]),
            "answers": _site(answers, [-101.0, -100.9]),  # the second outside the area
            "refuses": _site(refuses, [-101.02]),
        }
        yield Network(home, answers, refuses, cameras, silent.node_id, gone.node_id)


def _ask(node: Node, body: dict[str, Any]) -> FederatedQueryResult:
    r = httpx.post(
        node.url + "api/v1/federation/queries",
        json=body,
        headers=node.token(Role.OPERATOR),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return FederatedQueryResult.model_validate(r.json())


def _node_id(node: Node) -> str:
    r = httpx.get(node.url + ".well-known/c4hub", timeout=5)
    assert r.status_code == 200, r.text
    return str(r.json()["node_id"])


def test_live_plate_query_merges_answers_and_marks_each_peer(network: Network) -> None:
    body = _body(case_number="CASE-LIVE-1", deadline_s=1.5)
    result = _ask(network.home, body)
    home, answers, refuses = network.home, network.answers, network.refuses
    assert sorted((i["node_name"], i["camera_id"]) for i in result.items) == sorted(
        [
            ("Saltillo", str(network.cameras["home"][0].id)),
            ("Torreon", str(network.cameras["answers"][0].id)),  # not the one outside the area
        ]
    )
    status = {p.name: p.status for p in result.peers}
    assert status == {
        "Torreon": PeerAnswerStatus.OK,
        "Monclova": PeerAnswerStatus.REFUSED,
        "Silent": PeerAnswerStatus.TIMEOUT,
        "Gone": PeerAnswerStatus.UNREACHABLE,
    }
    refused = next(p for p in result.peers if p.name == "Monclova")
    assert refused.detail is not None and "plate_reads" in refused.detail
    assert all(p.elapsed_ms >= 0 for p in result.peers)

    asked = _audit_over_http(home, "CASE-LIVE-1")
    assert {(e.role, str(e.peer_node_id), e.status, e.result_count) for e in asked} == {
        ("asked", "None", "ok", 1),
        ("asked", _node_id(answers), "ok", 1),
        ("asked", _node_id(refuses), "refused", 0),
        ("asked", str(network.silent_peer), "timeout", 0),
        ("asked", str(network.gone_peer), "unreachable", 0),
    }
    assert {e.query_id for e in asked} == {result.query_id}
    home_id = _node_id(home)
    for node, status_there, count in ((answers, "ok", 1), (refuses, "refused", 0)):
        (entry,) = _audit_over_http(node, "CASE-LIVE-1")
        assert (entry.role, entry.actor, str(entry.peer_node_id)) == ("answered", home_id, home_id)
        assert (entry.status, entry.result_count, entry.query_id) == (
            status_there,
            count,
            result.query_id,
        )
        assert entry.purpose == "robbery investigation"


def test_live_camera_query_gets_each_peer_that_gives_the_registry(network: Network) -> None:
    body = _body(
        case_number="CASE-LIVE-2",
        deadline_s=1.5,
        query={
            "kind": "cameras_near",
            "point": {"type": "Point", "coordinates": [-101.0, 25.4]},
            "radius_m": 5_000,
        },
    )
    result = _ask(network.home, body)
    names = [(i["node_name"], i["camera_id"]) for i in result.items]
    assert names[0] == ("Torreon", str(network.cameras["answers"][0].id))  # 0 m away
    assert set(names) == {
        ("Torreon", str(network.cameras["answers"][0].id)),
        ("Saltillo", str(network.cameras["home"][0].id)),
        ("Monclova", str(network.cameras["refuses"][0].id)),
    }
    assert all("stream_uri" not in i for i in result.items)
    status = {p.name: p.status for p in result.peers}
    assert status["Monclova"] is PeerAnswerStatus.OK


def _audit_over_http(node: Node, case: str) -> list[Any]:
    r = httpx.get(
        node.url + "api/v1/audit",
        params={"case_number": case},
        headers=node.token(Role.ADMIN),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return list(AuditPage.model_validate(r.json()).items)


def test_live_peer_route_refuses_unsigned_and_answers_bad_queries_with_signed_422(
    network: Network,
) -> None:
    home, answers = network.home, network.answers
    unsigned = httpx.post(answers.url + "federation/v1/queries", json={}, timeout=10)
    assert unsigned.status_code == 401
    bad = _query("cameras_near", radius_m=100)  # no point
    with home.session() as s:
        peer = s.scalars(select(Peer).where(Peer.name == "Torreon")).one()
        target = peer_target(s, peer)
        key = signing_key(s, home.data_dir)
    with PeerClient(key) as client:  # checks the answer's signature, or raises
        reply = client.post(target, "/federation/v1/queries", bad.model_dump_json().encode())
    assert reply.status == 422
    assert "point" in reply.body.decode()
    assert all(e.query_id != bad.query_id for e in _audit_over_http(answers, bad.case_number))
