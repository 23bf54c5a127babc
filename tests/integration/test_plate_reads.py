"""Plate reads: stored once per id into daily partitions, searched (exact, fuzzy, partial, time,
area, camera, cursor), traced as a route, kept to the caller's cameras, expired by dropping
partitions."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hub.enrolment.service import enrol, withdraw
from hub.plates import store
from hub.plates.models import PlateReadRow
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.analytics import Box, Colour, Direction, ObjectClass, PlateRead
from schemas.camera import CameraCreate
from schemas.enrolment import ConsentTier, EnrolmentCreate
from schemas.enums import OrganizationKind, Role
from schemas.geo import Point
from schemas.hotlists import PlateReadPage, RouteFeature

Headers = dict[str, str]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def _camera(session: Session, box: CredentialBox, owner: Organization, lon: float) -> Camera:
    data = CameraCreate.model_validate({"location": {"type": "Point", "coordinates": [lon, 37.5]}})
    return create_camera(session, box, data, owner.id)


def _read(camera: Camera, plate: str, minute: int, **extra: Any) -> PlateRead:
    return PlateRead(
        id=uuid.uuid4(),
        camera_id=camera.id,
        read_at=T0 + timedelta(minutes=minute),
        plate=plate,
        confidence=0.9,
        **extra,
    )


@pytest.fixture
def cameras(session: Session, box: CredentialBox, org: Organization) -> list[Camera]:
    return [_camera(session, box, org, lon) for lon in (127.00, 127.01, 127.02)]


@pytest.fixture
def reads(session: Session, cameras: list[Camera]) -> list[PlateRead]:
    """12AB34 seen by the three cameras in turn, a confusable I2A834 and another plate."""
    made = [
        _read(cameras[0], "12AB34", 0, colour=Colour.RED, vehicle_class=ObjectClass.CAR),
        _read(cameras[1], "12AB34", 5, direction=Direction.FORWARD),
        _read(cameras[2], "12AB34", 10, box=Box(x=0.1, y=0.2, w=0.1, h=0.05)),
        _read(cameras[0], "I2A834", 15),
        _read(cameras[1], "99XY99", 20),
    ]
    for read in made:
        assert store.store_read(session, read).stored
    return made


def _search(client: TestClient, headers: Headers, **params: Any) -> PlateReadPage:
    r = client.get("/api/v1/plates/reads", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return PlateReadPage.model_validate(r.json())


def test_a_read_is_stored_once_with_its_fields_and_camera_position(
    session: Session, cameras: list[Camera], reads: list[PlateRead]
) -> None:
    assert not store.store_read(session, reads[0]).stored  # redelivered
    assert session.scalar(select(func.count()).select_from(PlateReadRow)) == 5
    row = session.execute(
        select(PlateReadRow, func.ST_X(PlateReadRow.location)).where(PlateReadRow.id == reads[0].id)
    ).one()
    assert (row[0].plate, row[0].plate_key, row[0].colour) == ("12AB34", "12A834", Colour.RED)
    assert row[1] == pytest.approx(127.00)
    partition = session.scalar(
        text("SELECT tableoid::regclass::text FROM plate_reads WHERE id = :id"),
        {"id": reads[0].id},
    )
    assert partition == f"plate_reads_p{T0:%Y%m%d}"


def test_a_read_of_an_unknown_camera_or_past_retention_is_not_stored(
    session: Session, cameras: list[Camera]
) -> None:
    ghost = PlateRead(
        id=uuid.uuid4(), camera_id=uuid.uuid4(), read_at=T0, plate="12AB34", confidence=0.9
    )
    old = _read(cameras[0], "12AB34", -61 * 24 * 60)
    assert not store.store_read(session, ghost).stored
    assert not store.store_read(session, old).stored


def test_search_exact_fuzzy_and_partial(
    client: TestClient, admin: Headers, reads: list[PlateRead]
) -> None:
    exact = _search(client, admin, plate="12AB34")
    assert [r.id for r in exact.items] == [reads[2].id, reads[1].id, reads[0].id]
    fuzzy = _search(client, admin, plate="12AB34", fuzzy=True)
    assert {r.plate for r in fuzzy.items} == {"12AB34", "I2A834"}
    assert len(fuzzy.items) == 4
    partial = _search(client, admin, plate="12?B34")
    assert len(partial.items) == 3
    assert {r.plate for r in _search(client, admin, plate="*XY*").items} == {"99XY99"}
    assert _search(client, admin, plate="12AB35").items == []


def test_search_by_time_area_and_camera(
    client: TestClient, admin: Headers, cameras: list[Camera], reads: list[PlateRead]
) -> None:
    since, until = T0 + timedelta(minutes=5), T0 + timedelta(minutes=15)
    page = _search(client, admin, **{"from": since.isoformat(), "to": until.isoformat()})
    assert [r.id for r in page.items] == [reads[2].id, reads[1].id]
    area = _search(client, admin, bbox="126.995,37.49,127.005,37.51")
    assert {r.id for r in area.items} == {reads[0].id, reads[3].id}
    by_camera = _search(client, admin, camera_id=str(cameras[1].id))
    assert {r.id for r in by_camera.items} == {reads[1].id, reads[4].id}
    assert by_camera.items[0].location is not None


def test_search_pages_by_cursor(client: TestClient, admin: Headers, reads: list[PlateRead]) -> None:
    first = _search(client, admin, limit=2)
    assert first.next_cursor is not None
    second = _search(client, admin, limit=2, cursor=first.next_cursor)
    third = _search(client, admin, limit=2, cursor=second.next_cursor)
    ids = [r.id for r in first.items + second.items + third.items]
    assert ids == [r.id for r in reversed(reads)]
    assert third.next_cursor is None


def test_route_is_the_ordered_sightings_as_a_linestring(
    client: TestClient, admin: Headers, reads: list[PlateRead]
) -> None:
    r = client.get("/api/v1/plates/12AB34/route", headers=admin)
    assert r.status_code == 200, r.text
    route = RouteFeature.model_validate(r.json())
    assert route.geometry is not None
    assert [c[0] for c in route.geometry.coordinates] == pytest.approx([127.0, 127.01, 127.02])
    assert [s.read_id for s in route.properties.sightings] == [r.id for r in reads[:3]]
    assert route.properties.first_seen == reads[0].read_at
    one = client.get("/api/v1/plates/99XY99/route", headers=admin).json()
    assert one["geometry"] is None
    assert len(one["properties"]["sightings"]) == 1


def test_bad_search_parameters_are_422(client: TestClient, admin: Headers) -> None:
    for params in ({"plate": "12-AB"}, {"bbox": "1,2,3"}, {"from": "2026-11-21T05:00:00"}):
        r = client.get("/api/v1/plates/reads", headers=admin, params=params)
        assert r.status_code == 422, params
        assert r.headers["content-type"] == "application/problem+json"


def test_business_sees_only_its_own_cameras_reads_and_planners_none(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    auth: Callable[..., Headers],
    make_org: Callable[..., Organization],
    reads: list[PlateRead],
) -> None:
    shop = make_org("corner-shop", OrganizationKind.PRIVATE_BUSINESS)
    own = _camera(session, box, shop, 127.03)
    mine = _read(own, "12AB34", 30)
    store.store_read(session, mine)
    page = _search(client, auth(Role.BUSINESS, shop), plate="12AB34")
    assert [r.id for r in page.items] == [mine.id]
    assert client.get("/api/v1/plates/reads", headers=auth(Role.PLANNER)).status_code == 403


def test_reads_of_a_withdrawn_camera_are_only_its_owners(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    auth: Callable[..., Headers],
    admin: Headers,
    make_org: Callable[..., Organization],
) -> None:
    shop = make_org("corner-shop", OrganizationKind.PRIVATE_BUSINESS)
    data = EnrolmentCreate(
        location=Point(type="Point", coordinates=[127.05, 37.5]),
        consent_tier=ConsentTier.LIVE_ALWAYS,
    )
    enrolment, _ = enrol(session, box, shop.id, data)
    camera = session.get(Camera, enrolment.camera_id)
    assert camera is not None
    read = _read(camera, "55ZZ55", 1)
    store.store_read(session, read)
    withdraw(session, enrolment)
    assert _search(client, admin, plate="55ZZ55").items == []
    assert [r.id for r in _search(client, auth(Role.BUSINESS, shop), plate="55ZZ55").items] == [
        read.id
    ]


def test_retention_drops_whole_expired_days_and_creates_days_ahead(
    session: Session, cameras: list[Camera]
) -> None:
    now = datetime.now(UTC)
    old_day = (now - timedelta(days=70)).date()
    store.ensure_partitions(session, old_day, 2)
    session.execute(
        text(
            "INSERT INTO plate_reads (read_at, id, camera_id, plate, plate_key, confidence) "
            "VALUES (:at, :id, :camera, 'OLD1', 'O1D1', 0.9)"
        ),
        {"at": now - timedelta(days=70), "id": uuid.uuid4(), "camera": cameras[0].id},
    )
    dropped = store.maintain(session, now)
    assert f"plate_reads_p{old_day:%Y%m%d}" in dropped
    days = set(store.partitions(session).values())
    assert old_day not in days
    assert {now.date() + timedelta(days=n) for n in range(8)} <= days
    assert (now - timedelta(days=59)).date() not in dropped
    count = select(func.count()).select_from(PlateReadRow).where(PlateReadRow.plate == "OLD1")
    assert session.scalar(count) == 0
