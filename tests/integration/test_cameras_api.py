"""Camera registry API against real PostGIS, each test rolled back."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.registry.fov import destination
from hub.registry.models import Camera as CameraRow
from hub.registry.models import Organization
from schemas.camera import Camera, CameraPage

Headers = dict[str, str]
POINT = (127.03, 37.5)


def _body(org: Organization, **fields: Any) -> dict[str, Any]:
    return {"owner_id": str(org.id), "location": {"type": "Point", "coordinates": POINT}, **fields}


def _create(client: TestClient, h: Headers, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/cameras", headers=h, json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def test_create_returns_camera_with_footprint_and_no_secret(
    client: TestClient, org: Organization, admin: Headers, session: Session
) -> None:
    cam = _create(
        client,
        admin,
        _body(
            org,
            heading_deg=90,
            fov_deg=60,
            range_m=50,
            units=3,
            external_id="A-1",
            stream_uri="rtsp://10.0.0.5/main",
            credentials={"username": "admin", "password": "hunter2"},
        ),
    )
    assert cam["fov"]["type"] == "Polygon"
    assert cam["has_credentials"] is True
    assert "hunter2" not in str(cam) and "credentials" not in cam
    row = session.get(CameraRow, cam["id"])
    assert row is not None and row.credentials_sealed and b"hunter2" not in row.credentials_sealed
    got = client.get(f"/api/v1/cameras/{cam['id']}", headers=admin).json()
    assert got["units"] == 3 and got["external_id"] == "A-1"


def test_footprint_follows_heading_changes(
    client: TestClient, org: Organization, admin: Headers
) -> None:
    cam = _create(client, admin, _body(org, heading_deg=0, fov_deg=40, range_m=100))
    north = ",".join(map(str, destination(*POINT, 0, 60)))
    south = ",".join(map(str, destination(*POINT, 180, 60)))

    def covering(pt: str) -> list[str]:
        r = client.get("/api/v1/cameras", headers=admin, params={"covers": pt})
        return [c["id"] for c in r.json()["items"]]

    assert covering(north) == [cam["id"]] and covering(south) == []
    r = client.patch(f"/api/v1/cameras/{cam['id']}", headers=admin, json={"heading_deg": 180})
    assert r.status_code == 200, r.text
    assert covering(north) == [] and covering(south) == [cam["id"]]
    r = client.patch(f"/api/v1/cameras/{cam['id']}", headers=admin, json={"range_m": None})
    assert r.json()["fov"] is None


def test_moving_a_camera_moves_its_footprint(
    client: TestClient, org: Organization, admin: Headers
) -> None:
    cam = _create(client, admin, _body(org, ptz=True, range_m=30))
    moved = client.patch(
        f"/api/v1/cameras/{cam['id']}",
        headers=admin,
        json={"location": {"type": "Point", "coordinates": [127.1, 37.6]}},
    ).json()
    assert moved["location"]["coordinates"] == [127.1, 37.6]
    r = client.get("/api/v1/cameras", headers=admin, params={"covers": "127.1,37.6"})
    assert [c["id"] for c in r.json()["items"]] == [cam["id"]]


def test_geo_filters(
    client: TestClient, make_org: Callable[..., Organization], admin: Headers
) -> None:
    district = make_org("gangnam-gu")
    police = make_org("seoul-police", kind="police")
    ids = {}
    for i, (org, purpose) in enumerate(
        [(district, "traffic"), (district, "crime_prevention"), (police, "traffic")]
    ):
        lon, lat = destination(*POINT, 90, 200 * i)  # 0 m, 200 m, 400 m east
        ids[i] = _create(
            client,
            admin,
            {
                "owner_id": str(org.id),
                "location": {"type": "Point", "coordinates": [lon, lat]},
                "purpose": purpose,
                "ai_capable": i == 2,
            },
        )["id"]

    def found(**params: Any) -> list[str]:
        r = client.get("/api/v1/cameras", headers=admin, params=params)
        assert r.status_code == 200, r.text
        return sorted(c["id"] for c in r.json()["items"])

    here = f"{POINT[0]},{POINT[1]}"
    assert found(near=here, radius_m=250) == sorted([ids[0], ids[1]])
    assert found(near=here, radius_m=50) == [ids[0]]
    assert found(purpose="traffic") == sorted([ids[0], ids[2]])
    assert found(owner_kind="police") == [ids[2]]
    assert found(owner="gangnam-gu") == sorted([ids[0], ids[1]])
    assert found(owner=str(police.id)) == [ids[2]]
    assert found(ai_capable=True) == [ids[2]]
    east = destination(*POINT, 90, 300)
    assert found(bbox=f"{east[0]},{POINT[1] - 0.01},{east[0] + 0.01},{POINT[1] + 0.01}") == [ids[2]]
    r = client.get("/api/v1/cameras", headers=admin, params={"nearest": here, "k": 2})
    items = r.json()["items"]
    assert [c["id"] for c in items] == [ids[0], ids[1]]
    assert items[1]["distance_m"] == pytest.approx(200, rel=0.01)


def test_within_polygon_body_and_jurisdiction(
    client: TestClient, make_org: Callable[..., Organization], admin: Headers
) -> None:
    square = {
        "type": "Polygon",
        "coordinates": [
            [[127.0, 37.4], [127.1, 37.4], [127.1, 37.6], [127.0, 37.6], [127.0, 37.4]]
        ],
    }
    district = make_org("gangnam-gu", jurisdiction=square)
    inside = _create(client, admin, _body(district))
    _create(
        client, admin, _body(district, location={"type": "Point", "coordinates": [126.9, 37.5]})
    )
    r = client.post("/api/v1/cameras/within", headers=admin, json=square)
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["items"]] == [inside["id"]]
    r = client.get("/api/v1/cameras", headers=admin, params={"within_org": "gangnam-gu"})
    assert [c["id"] for c in r.json()["items"]] == [inside["id"]]


def test_cursor_pages_cover_everything_once(
    client: TestClient, org: Organization, admin: Headers
) -> None:
    made = {_create(client, admin, _body(org))["id"] for _ in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/cameras", headers=admin, params=params).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def test_geojson_by_accept_header(client: TestClient, org: Organization, admin: Headers) -> None:
    cam = _create(client, admin, _body(org, units=4))
    r = client.get(
        "/api/v1/cameras", headers={**admin, "Accept": "application/geo+json"}, params={"limit": 1}
    )
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    feature = fc["features"][0]
    assert feature["id"] == cam["id"] and feature["geometry"]["coordinates"] == list(POINT)
    assert feature["properties"]["units"] == 4
    one = client.get(
        f"/api/v1/cameras/{cam['id']}", headers={**admin, "Accept": "application/geo+json"}
    )
    assert one.json()["type"] == "Feature"


def test_summary_counts_records_and_units(
    client: TestClient, make_org: Callable[..., Organization], admin: Headers
) -> None:
    district = make_org("gangnam-gu")
    police = make_org("seoul-police", kind="police")
    _create(client, admin, _body(district, units=4, install_year=2015, purpose="traffic"))
    _create(client, admin, _body(district, units=1, install_year=2015))
    _create(client, admin, _body(police, units=10, ai_capable=True))
    s = client.get("/api/v1/cameras/summary", headers=admin).json()
    assert (s["records"], s["units"]) == (3, 15)
    by_owner = {b["key"]: (b["records"], b["units"]) for b in s["by_owner"]}
    assert by_owner == {"gangnam-gu": (2, 5), "seoul-police": (1, 10)}
    assert {b["key"]: b["units"] for b in s["by_owner_kind"]} == {"district": 5, "police": 10}
    assert {b["key"]: b["units"] for b in s["by_install_year"]} == {"2015": 5, None: 10}
    assert {b["key"]: b["units"] for b in s["by_ai_capable"]} == {"true": 10, "false": 5}
    assert {b["key"]: b["units"] for b in s["by_purpose"]} == {"traffic": 4, "other": 11}
    filtered = client.get(
        "/api/v1/cameras/summary", headers=admin, params={"owner": "seoul-police"}
    )
    assert filtered.json()["units"] == 10


def test_delete_camera(
    client: TestClient, org: Organization, admin: Headers, session: Session
) -> None:
    cam = _create(client, admin, _body(org))
    assert client.delete(f"/api/v1/cameras/{cam['id']}", headers=admin).status_code == 204
    assert session.scalar(select(func.count()).select_from(CameraRow)) == 0
    assert client.get(f"/api/v1/cameras/{cam['id']}", headers=admin).status_code == 404


def test_every_camera_response_matches_the_documented_schema(
    client: TestClient, org: Organization, admin: Headers
) -> None:
    full = _body(
        org,
        external_id="X-9",
        name="Gate",
        heading_deg=10,
        fov_deg=90,
        range_m=40,
        mount_height_m=4.5,
        vendor="Hanwha",
        model="XNO-6080R",
        firmware="2.10",
        install_year=2019,
        ai_capable=True,
        adapter="onvif",
        stream_uri="rtsp://10.0.0.9/main",
        snapshot_uri="http://10.0.0.9/snap.jpg",
        last_seen_at="2026-11-20T10:00:00+09:00",
        retention_days=30,
        tags=["gate", "north"],
        credentials={"username": "u", "password": "p"},
    )
    made = _create(client, admin, full)
    bare = _create(client, admin, _body(org))
    for cam in (made, bare):
        assert Camera.model_validate(cam).id
    page = client.get(
        "/api/v1/cameras", headers=admin, params={"near": "127.03,37.5", "radius_m": 10}
    )
    parsed = CameraPage.model_validate(page.json())
    assert {str(c.id) for c in parsed.items} == {made["id"], bare["id"]}
    assert all(c.distance_m is not None for c in parsed.items)
    one = client.get(f"/api/v1/cameras/{made['id']}", headers=admin).json()
    assert Camera.model_validate(one).last_seen_at is not None
    assert one["last_seen_at"].startswith("2026-11-20T01:00:00")
    patched = client.patch(f"/api/v1/cameras/{made['id']}", headers=admin, json={"tags": []})
    assert Camera.model_validate(patched.json()).tags == []
