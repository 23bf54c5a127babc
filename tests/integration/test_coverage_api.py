"""Coverage of an area through the API, on geometry whose answer is worked out by hand."""

import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.coverage.models import CoverageCache, CoverageGap, Obstacle
from hub.enrolment.models import Enrolment
from hub.registry.fov import destination
from hub.registry.models import Organization
from schemas.enrolment import ConsentTier, EnrolmentState
from schemas.enums import OrganizationKind, Role

Headers = dict[str, str]
CENTRE = (127.03, 37.50)  # Gangnam; UTM zone 52N


def offset(east_m: float, north_m: float) -> list[float]:
    """The point east_m / north_m away from CENTRE (along the two axes, then combined)."""
    lon, _ = destination(*CENTRE, 90.0 if east_m >= 0 else 270.0, abs(east_m))
    _, lat = destination(*CENTRE, 0.0 if north_m >= 0 else 180.0, abs(north_m))
    return [lon, lat]


def square(half_m: float) -> dict[str, Any]:
    ring = [
        offset(-half_m, -half_m),
        offset(half_m, -half_m),
        offset(half_m, half_m),
        offset(-half_m, half_m),
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def polygon_area(radius_m: float, degrees: float, chords: int) -> float:
    """A circle or sector drawn with `chords` straight segments: the triangles' sum."""
    return chords * 0.5 * radius_m**2 * math.sin(math.radians(degrees / chords))


# Hand-worked: a 200 m square (40,000 m²) and three cameras that do not overlap.
# A: quarter circle of 50 m (heading 45°, FOV 90°: 18 chords of 5°) near the SW corner, inside.
# B: no heading and no range: the assumed 30 m circle (72 chords), at the centre, flagged.
# C: a PTZ with 20 m range on the east edge: exactly half its 72-gon lies inside.
SECTOR_A = polygon_area(50, 90, 18)  # 1961.0
CIRCLE_B = polygon_area(30, 360, 72)  # 2823.8
HALF_C = polygon_area(20, 360, 72) / 2  # 627.5
AREA = 200.0 * 200.0


@pytest.fixture
def cameras(
    client: TestClient, make_org: Callable[..., Organization], auth: Callable[..., Headers]
) -> dict[str, Any]:
    district = make_org("gangnam-gu", jurisdiction=square(100))
    police = make_org("gangnam-police", OrganizationKind.POLICE)
    admin = auth(Role.ADMIN)
    bodies = {
        "a": {
            "owner_id": str(district.id),
            "location": {"type": "Point", "coordinates": offset(-90, -90)},
            "heading_deg": 45,
            "fov_deg": 90,
            "range_m": 50,
            "purpose": "crime_prevention",
        },
        "b": {
            "owner_id": str(district.id),
            "location": {"type": "Point", "coordinates": offset(0, 0)},
            "purpose": "parking_enforcement",
        },
        "c": {
            "owner_id": str(police.id),
            "location": {"type": "Point", "coordinates": offset(100, 0)},
            "ptz": True,
            "range_m": 20,
            "purpose": "traffic",
        },
    }
    ids = {}
    for name, body in bodies.items():
        r = client.post("/api/v1/cameras", headers=admin, json=body)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return {"ids": ids, "district": district, "police": police, "admin": admin}


def close(value: float, expected: float, rel: float = 0.005) -> bool:
    return math.isclose(value, expected, rel_tol=rel)


def test_square_with_three_cameras(client: TestClient, cameras: dict[str, Any]) -> None:
    r = client.post("/api/v1/coverage", headers=cameras["admin"], json={"area": square(100)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert close(body["area_m2"], AREA)
    assert close(body["covered_m2"], SECTOR_A + CIRCLE_B + HALF_C)
    assert close(body["share"], (SECTOR_A + CIRCLE_B + HALF_C) / AREA)
    assert body["cameras"] == 3 and body["cached"] is False
    assert body["assumed_360"] == {
        "count": 1,
        "camera_ids": [cameras["ids"]["b"]],
        "default_range_m": 30.0,
    }
    kinds = body["by_owner_kind"]
    assert set(kinds) == {"district", "police"}
    assert close(kinds["district"]["covered_m2"], SECTOR_A + CIRCLE_B)
    assert close(kinds["police"]["covered_m2"], HALF_C)
    purposes = body["by_purpose"]
    assert set(purposes) == {"crime_prevention", "parking_enforcement", "traffic"}
    assert close(purposes["parking_enforcement"]["covered_m2"], CIRCLE_B)
    shared = body["if_parking_shared"]
    assert close(shared["crime_prevention_m2"], SECTOR_A)
    assert close(shared["covered_m2"], SECTOR_A + CIRCLE_B)
    assert close(shared["gain_m2"], CIRCLE_B)
    # the gap is the square minus the three views: one polygon with two holes (A and C touch
    # the boundary or not: A is 10 m inside, C cuts the east edge), so its area is the rest
    assert close(body["gap_m2"], AREA - (SECTOR_A + CIRCLE_B + HALF_C))


def test_gaps_are_geojson_and_cached_until_a_camera_changes(
    client: TestClient, session: Session, cameras: dict[str, Any]
) -> None:
    h = cameras["admin"]
    first = client.get("/api/v1/coverage/gaps?organization=gangnam-gu", headers=h)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/geo+json")
    doc = first.json()
    assert doc["type"] == "FeatureCollection" and doc["properties"]["cached"] is False
    assert len(doc["features"]) == 1
    gap = doc["features"][0]
    assert gap["geometry"]["type"] == "Polygon"
    assert len(gap["geometry"]["coordinates"]) == 3  # outer ring, holes of A and B
    assert close(gap["properties"]["area_m2"], AREA - (SECTOR_A + CIRCLE_B + HALF_C))

    again = client.get("/api/v1/coverage?organization=gangnam-gu", headers=h).json()
    assert again["cached"] is True and again["computed_at"] == doc["properties"]["computed_at"]

    # Re-aim A outward: half of its view leaves the square, so coverage drops.
    r = client.patch(f"/api/v1/cameras/{cameras['ids']['a']}", headers=h, json={"heading_deg": 225})
    assert r.status_code == 200, r.text
    after = client.get("/api/v1/coverage?organization=gangnam-gu", headers=h).json()
    assert after["cached"] is False
    assert after["covered_m2"] < again["covered_m2"] - 1000
    # the old entry was replaced whole: one cache row, its gaps only
    assert session.scalar(select(func.count()).select_from(CoverageCache)) == 1
    cache_ids = session.scalars(select(CoverageGap.cache_id).distinct()).all()
    assert cache_ids == [session.scalar(select(CoverageCache.id))]


def test_a_business_counts_its_own_cameras(
    client: TestClient,
    cameras: dict[str, Any],
    make_org: Callable[..., Organization],
    auth: Callable[..., Headers],
) -> None:
    shop = make_org("shop", OrganizationKind.PRIVATE_BUSINESS)
    h = auth(Role.BUSINESS, shop)
    r = client.post("/api/v1/coverage", headers=h, json={"area": square(100)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cameras"] == 0 and body["covered_m2"] == 0 and body["share"] == 0
    assert "No camera" in body["note"]
    # another organization's jurisdiction is as unknown to it as a missing one
    r = client.get("/api/v1/coverage?organization=gangnam-gu", headers=h)
    assert r.status_code == 404


def test_area_with_no_cameras_is_all_gap(client: TestClient, auth: Callable[..., Headers]) -> None:
    r = client.post("/api/v1/coverage/gaps", headers=auth(Role.PLANNER), json={"area": square(50)})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["properties"]["share"] == 0 and doc["properties"]["cameras"] == 0
    assert len(doc["features"]) == 1
    assert close(doc["features"][0]["properties"]["area_m2"], 100.0 * 100.0)


def test_obstacles_hide_what_lies_behind_them(
    client: TestClient, session: Session, cameras: dict[str, Any]
) -> None:
    # A 10 m x 10 m building inside B's circle, and one where no camera looks.
    for west, south in ((5, 5), (-60, 60)):
        ring = [
            offset(west, south),
            offset(west + 10, south),
            offset(west + 10, south + 10),
            offset(west, south + 10),
        ]
        positions = ", ".join(f"{lon} {lat}" for lon, lat in [*ring, ring[0]])
        session.add(Obstacle(geom=f"SRID=4326;MULTIPOLYGON((({positions})))", source="test"))
    session.commit()
    h, area = cameras["admin"], {"area": square(100)}
    plain = client.post("/api/v1/coverage", headers=h, json=area).json()
    blocked = client.post("/api/v1/coverage", headers=h, json={**area, "obstacles": True}).json()
    views = SECTOR_A + CIRCLE_B + HALF_C
    assert close(plain["covered_m2"], views)
    assert close(blocked["covered_m2"], views - 100.0, rel=0.001)
    assert close(blocked["by_purpose"]["parking_enforcement"]["covered_m2"], CIRCLE_B - 100.0)
    assert close(blocked["by_owner_kind"]["police"]["covered_m2"], HALF_C)
    assert close(blocked["gap_m2"], AREA - views + 100.0, rel=0.001)


def test_cameras_without_consent_to_be_mapped_are_not_counted(
    client: TestClient, session: Session, cameras: dict[str, Any]
) -> None:
    # A business enrolled B, then withdrew; A's enrolment is approved.
    for name, state in (("b", EnrolmentState.WITHDRAWN), ("a", EnrolmentState.APPROVED)):
        camera_id = cameras["ids"][name]
        session.add(
            Enrolment(
                camera_id=camera_id,
                org_id=cameras["district"].id,
                state=state,
                consent_tier=ConsentTier.REGISTRY_ONLY,
            )
        )
    session.commit()
    body = client.post(
        "/api/v1/coverage", headers=cameras["admin"], json={"area": square(100)}
    ).json()
    assert body["cameras"] == 2
    assert close(body["covered_m2"], SECTOR_A + HALF_C)
    assert body["assumed_360"]["count"] == 0


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[127, 37.5], [127.01, 37.51], [127.01, 37.5], [127, 37.51], [127, 37.5]]],
}


@pytest.mark.parametrize(
    ("area", "reason"),
    [
        (BOWTIE, "Self-intersection"),
        ({"type": "Polygon", "coordinates": []}, "at least 1 item"),
        (
            {"type": "Polygon", "coordinates": [[[127, 37.5], [127.01, 37.5], [127, 37.5]]]},
            "at least 4 items",
        ),
        ({"type": "Point", "coordinates": [127, 37.5]}, "expected tags: 'Polygon', 'MultiPolygon'"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[127, 37.5], [127.01, 37.5], [127.02, 37.5], [127, 37.5]]],
            },
            "not a valid polygon",
        ),
    ],
)
def test_bad_areas_are_refused_with_the_reason(
    client: TestClient, auth: Callable[..., Headers], area: dict[str, Any], reason: str
) -> None:
    r = client.post("/api/v1/coverage", headers=auth(Role.ADMIN), json={"area": area})
    body = _problem(r, 422)
    assert reason in body["detail"]
    assert body["invalid_params"][0]["name"].startswith("area")


def test_unknown_or_bare_organization(
    client: TestClient, auth: Callable[..., Headers], make_org: Callable[..., Organization]
) -> None:
    h = auth(Role.ADMIN)
    _problem(client.get("/api/v1/coverage?organization=nowhere", headers=h), 404)
    make_org("bare")
    assert (
        "no jurisdiction"
        in _problem(client.get("/api/v1/coverage?organization=bare", headers=h), 422)["detail"]
    )
    _problem(client.get("/api/v1/coverage", headers=h), 422)
    both = {"area": square(10), "organization": "bare"}
    _problem(client.post("/api/v1/coverage", headers=h, json=both), 422)
    _problem(client.get("/api/v1/coverage?organization=bare"), 401)
