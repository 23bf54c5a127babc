"""POST /api/v1/plates/reads: a camera that reads plates itself (or an operator) posts a read;
it is stored once (idempotent by id), matched against the hotlists at once, and sent to the
peers whose agreement has plate_reads and whose area holds it."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from federation.models import NodeIdentity
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enums import OrganizationKind, Role
from schemas.federation import EventType, PlateReadData, Scope
from schemas.hotlists import PlateReadStored
from tests.integration.test_hotlists_federation import (
    SALTILLO,
    agree,
    make_node,
    make_peer,
    sent,
)

Headers = dict[str, str]
URL = "/api/v1/plates/reads"


@pytest.fixture
def node(session: Session) -> NodeIdentity:
    return make_node(session)


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    data = CameraCreate.model_validate(
        {"name": "Blvd. Carranza", "location": {"type": "Point", "coordinates": [-101.0, 25.42]}}
    )
    return create_camera(session, box, data, org.id)


def _read(camera: Camera, plate: str = "FRS4821", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "camera_id": str(camera.id),
        "read_at": datetime.now(UTC).isoformat(),
        "plate": plate,
        "confidence": 0.91,
        "evidence": f"crops/{plate}.jpg",
    }
    return body | changes


def _entry(client: TestClient, headers: Headers, plate: str, category: str) -> str:
    body = {"plate": plate, "category": category, "reason": "r", "legal_basis": "l", "source": "s"}
    r = client.post("/api/v1/hotlists/entries", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_a_posted_read_is_stored_once_and_raises_its_alerts(
    client: TestClient, admin: Headers, camera: Camera
) -> None:
    _entry(client, admin, "FRS4821", "stolen")
    body = _read(camera)
    first = client.post(URL, headers=admin, json=body)
    assert first.status_code == 201, first.text
    stored = PlateReadStored.model_validate(first.json())
    assert (stored.duplicate, stored.exempt, len(stored.alert_ids)) == (False, False, 1)
    assert stored.read.location is not None
    assert stored.read.location.coordinates == [-101.0, 25.42]  # the camera's position
    again = client.post(URL, headers=admin, json=body)
    assert again.status_code == 200
    assert PlateReadStored.model_validate(again.json()).model_dump() == (
        stored.model_copy(update={"duplicate": True, "alert_ids": []}).model_dump()
    )
    alerts = client.get("/api/v1/alerts", headers=admin).json()["items"]
    assert [a["id"] for a in alerts] == [str(i) for i in stored.alert_ids]
    found = client.get(URL, headers=admin, params={"plate": "FRS4821"}).json()["items"]
    assert [r["id"] for r in found] == [body["id"]]


def test_a_white_listed_read_is_exempt_and_raises_nothing(
    client: TestClient, admin: Headers, camera: Camera
) -> None:
    _entry(client, admin, "AMB0119", "emergency")
    r = client.post(URL, headers=admin, json=_read(camera, "AMB0119", location={
        "type": "Point", "coordinates": [-101.001, 25.421]}))  # fmt: skip
    stored = PlateReadStored.model_validate(r.json())
    assert (stored.exempt, stored.alert_ids, stored.read.enforcement_exempt) == (True, [], True)
    assert stored.read.location is not None
    assert stored.read.location.coordinates == [-101.001, 25.421]  # its own position


def test_who_may_post_reads_and_for_which_cameras(
    client: TestClient,
    auth: Callable[..., Headers],
    org: Organization,
    make_org: Callable[..., Organization],
    camera: Camera,
) -> None:
    other = make_org("oxxo-norte", OrganizationKind.PRIVATE_BUSINESS)
    own = auth(Role.BUSINESS, org)
    assert client.post(URL, headers=own, json=_read(camera)).status_code == 201
    assert (
        client.post(URL, headers=auth(Role.BUSINESS, other), json=_read(camera)).status_code == 404
    )
    assert client.post(URL, headers=auth(Role.OPERATOR), json=_read(camera)).status_code == 201
    assert client.post(URL, headers=auth(Role.PLANNER), json=_read(camera)).status_code == 403
    assert client.post(URL, json=_read(camera)).status_code == 401


def test_bad_reads_are_refused_with_the_reason(
    client: TestClient, admin: Headers, camera: Camera
) -> None:
    now = datetime.now(UTC)
    for body, status, param in (
        (_read(camera, read_at=(now - timedelta(days=61)).isoformat()), 422, "read_at"),
        (_read(camera, read_at=(now + timedelta(hours=2)).isoformat()), 422, "read_at"),
        (_read(camera, camera_id=str(uuid.uuid4())), 404, None),
        (_read(camera, plate="frs-4821"), 422, "plate"),
        (_read(camera, confidence=1.5), 422, "confidence"),
    ):
        r = client.post(URL, headers=admin, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        if param is not None:
            assert [p["name"] for p in r.json()["invalid_params"]] == [param]


def test_a_read_goes_to_the_peers_with_plate_reads_whose_area_holds_it(
    client: TestClient, session: Session, admin: Headers, node: NodeIdentity, camera: Camera
) -> None:
    inside = make_peer(session, "C4 Saltillo")
    elsewhere = make_peer(session, "C4 Monclova")
    no_scope = make_peer(session, "C4 Torreón")
    agree(session, inside, [Scope.PLATE_READS], [], area=SALTILLO)
    agree(session, elsewhere, [Scope.PLATE_READS], [], area=SALTILLO.replace("-101.1", "-99.1"))
    agree(session, no_scope, [Scope.ALERTS], [])
    body = _read(camera)
    assert client.post(URL, headers=admin, json=body).status_code == 201
    assert client.post(URL, headers=admin, json=body).status_code == 200  # not sent twice
    [(data, peers)] = sent(session, EventType.PLATE_READ)
    assert peers == [inside.id]
    read = PlateReadData.model_validate(data)
    assert (str(read.read_id), read.plate, read.camera_name) == (
        body["id"],
        "FRS4821",
        "Blvd. Carranza",
    )
    assert read.position.coordinates == [-101.0, 25.42]
