"""Traffic statistics from stored line crossings: by interval, camera, line, direction and class,
and summed on H3 cells for the map."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import h3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.events.service import store_events
from hub.plates.store import store_read
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.analytics import Direction, ObjectClass, PlateRead
from schemas.camera import CameraCreate
from schemas.enums import OrganizationKind, Role
from schemas.events import EventKind, NormalizedEvent

Headers = dict[str, str]
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Callable[..., Camera]:
    def make(lon: float = 127.05, owner: Organization = org) -> Camera:
        data = {"location": {"type": "Point", "coordinates": [lon, 37.5]}}
        made = create_camera(session, box, CameraCreate.model_validate(data), owner.id)
        session.flush()
        return made

    return make


def crossing(
    camera: Camera, at: datetime, cls: str, direction: str, line: str = "l1"
) -> NormalizedEvent:
    return NormalizedEvent(
        id=uuid.uuid4(),
        camera_id=camera.id,
        kind=EventKind.LINE_CROSSING,
        occurred_at=at,
        source="analytics",
        topic="c4hub/analytics/line_crossing",
        subject={"line": line, "track": "7"},
        data={"class": cls, "direction": direction},
    )


def test_crossings_are_counted_per_hour_line_direction_and_class(
    client: TestClient, admin: Headers, camera: Callable[..., Camera], session: Session
) -> None:
    cam = camera()
    store_events(
        session,
        [
            crossing(cam, T0 + timedelta(minutes=5), "car", "forward"),
            crossing(cam, T0 + timedelta(minutes=50), "car", "forward"),
            crossing(cam, T0 + timedelta(minutes=55), "bus", "forward"),
            crossing(cam, T0 + timedelta(minutes=59), "car", "backward"),
            crossing(cam, T0 + timedelta(minutes=70), "car", "forward"),
            crossing(cam, T0 + timedelta(hours=5), "car", "forward"),  # outside the window
        ],
    )
    params = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=2)).isoformat()}
    body = client.get("/api/v1/stats/traffic", params=params, headers=admin).json()
    rows = [
        (b["start"][11:16], b["direction"], b["object_class"], b["count"]) for b in body["buckets"]
    ]
    assert rows == [
        ("08:00", "backward", "car", 1),
        ("08:00", "forward", "bus", 1),
        ("08:00", "forward", "car", 2),
        ("09:00", "forward", "car", 1),
    ]
    assert body["total"] == 5 and body["interval"] == "hour"
    quarter = client.get(
        "/api/v1/stats/traffic", params={**params, "interval": "15min"}, headers=admin
    ).json()
    assert [b["start"][11:16] for b in quarter["buckets"]] == [
        "08:00",
        "08:45",
        "08:45",
        "08:45",
        "09:00",
    ]
    day = client.get(
        "/api/v1/stats/traffic", params={**params, "interval": "day"}, headers=admin
    ).json()
    assert {b["start"][:10] for b in day["buckets"]} == {"2026-11-20"}


def test_counts_can_be_limited_to_one_camera(
    client: TestClient, admin: Headers, camera: Callable[..., Camera], session: Session
) -> None:
    one, other = camera(), camera(127.06)
    store_events(
        session, [crossing(one, T0, "car", "forward"), crossing(other, T0, "car", "forward")]
    )
    params = {
        "from": T0.isoformat(),
        "to": (T0 + timedelta(hours=1)).isoformat(),
        "camera_id": str(one.id),
    }
    body = client.get("/api/v1/stats/traffic", params=params, headers=admin).json()
    assert body["total"] == 1 and body["buckets"][0]["camera_id"] == str(one.id)


def test_the_map_layer_sums_cameras_in_the_same_h3_cell(
    client: TestClient, admin: Headers, camera: Callable[..., Camera], session: Session
) -> None:
    a, b, far = camera(127.05), camera(127.0501), camera(127.2)
    store_events(
        session,
        [
            crossing(a, T0, "car", "forward"),
            crossing(b, T0, "bus", "forward"),
            crossing(b, T0, "car", "backward"),
            crossing(far, T0, "car", "forward"),
        ],
    )
    params = {
        "from": T0.isoformat(),
        "to": (T0 + timedelta(hours=1)).isoformat(),
        "resolution": "8",
    }
    body = client.get("/api/v1/stats/traffic/h3", params=params, headers=admin).json()
    cells = {f["id"]: f["properties"] for f in body["features"]}
    near = h3.latlng_to_cell(37.5, 127.05, 8)
    assert cells[near]["count"] == 3 and cells[near]["cameras"] == 2
    assert cells[near]["by_class"] == {"car": 2, "bus": 1}
    assert cells[h3.latlng_to_cell(37.5, 127.2, 8)]["count"] == 1
    ring = next(f for f in body["features"] if f["id"] == near)["geometry"]["coordinates"][0]
    assert len(ring) == 7 and ring[0] == ring[-1]


def test_a_business_counts_only_its_own_cameras(
    client: TestClient,
    auth: Callable[..., Headers],
    camera: Callable[..., Camera],
    make_org: Callable[..., Organization],
    session: Session,
) -> None:
    shop = make_org(slug="mall", kind=OrganizationKind.PRIVATE_BUSINESS)
    own, public = camera(owner=shop), camera(127.06)
    store_events(
        session, [crossing(own, T0, "car", "forward"), crossing(public, T0, "car", "forward")]
    )
    params = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()}
    business = auth(Role.BUSINESS, shop)
    body = client.get("/api/v1/stats/traffic", params=params, headers=business).json()
    assert body["total"] == 1 and body["buckets"][0]["camera_id"] == str(own.id)
    response = client.get(
        "/api/v1/stats/traffic", params={**params, "camera_id": str(public.id)}, headers=business
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-20T10:00:00Z", "to": "2026-11-20T09:00:00Z"},
        {"from": "2026-11-20T10:00:00", "to": "2026-11-20T11:00:00Z"},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-11-20T00:00:00Z", "interval": "15min"},
        {"from": "2026-11-20T10:00:00Z", "to": "2026-11-20T11:00:00Z", "interval": "week"},
        {"to": "2026-11-20T11:00:00Z"},
    ],
)
def test_bad_windows_get_a_problem(
    client: TestClient, admin: Headers, params: dict[str, str]
) -> None:
    response = client.get("/api/v1/stats/traffic", params=params, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_plate_reads_are_counted_too(
    client: TestClient, admin: Headers, camera: Callable[..., Camera], session: Session
) -> None:
    cam = camera()
    now = datetime.now(UTC).replace(minute=10, second=0, microsecond=0)
    for n, (cls, direction) in enumerate(
        [("car", "forward"), ("car", "forward"), ("truck", "backward")]
    ):
        store_read(
            session,
            PlateRead(
                id=uuid.uuid4(),
                camera_id=cam.id,
                read_at=now + timedelta(minutes=n),
                plate=f"CA{1000 + n}AB",
                confidence=0.9,
                vehicle_class=ObjectClass(cls),
                direction=Direction(direction),
            ),
        )
    params = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
        "source": "plates",
    }
    body = client.get("/api/v1/stats/traffic", params=params, headers=admin).json()
    assert body["source"] == "plates" and body["total"] == 3
    assert {(b["direction"], b["object_class"], b["count"]) for b in body["buckets"]} == {
        ("forward", "car", 2),
        ("backward", "truck", 1),
    }
    assert all(b["line"] is None for b in body["buckets"])
    lines = client.get("/api/v1/stats/traffic", params={**params, "source": "lines"}, headers=admin)
    assert lines.json()["total"] == 0
