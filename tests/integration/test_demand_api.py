"""Demand against the cameras through the API: covered by whom, and the uncovered ranked."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.coverage.models import DemandKind, DemandPoint
from hub.registry.models import Organization
from schemas.enums import Role
from tests.integration.test_coverage_api import cameras, offset, square

__all__ = ["cameras"]  # the fixture, shared with the coverage tests

Headers = dict[str, str]


def point(east: float, north: float) -> str:
    lon, lat = offset(east, north)
    return f"SRID=4326;POINT({lon} {lat})"


@pytest.fixture
def demand(session: Session, client: TestClient, cameras: dict[str, Any]) -> dict[str, DemandPoint]:
    # a police PTZ of 40 m at the centre: with district camera B (30 m) two owners see (0, 10)
    r = client.post(
        "/api/v1/cameras",
        headers=cameras["admin"],
        json={
            "owner_id": str(cameras["police"].id),
            "location": {"type": "Point", "coordinates": offset(0, 0)},
            "ptz": True,
            "range_m": 40,
        },
    )
    assert r.status_code == 201, r.text
    places = {
        "in_a": (DemandKind.STATION, 2.0, point(-70, -70)),  # 28 m from A along its heading
        "in_b_and_d": (DemandKind.BUS_STOP, 3.0, point(0, 10)),
        "in_c": (DemandKind.MARKET, 1.0, point(95, 0)),
        "heavy": (DemandKind.SCHOOL, 9.0, point(-50, 60)),
        "middle": (DemandKind.SCENIC, 5.0, point(50, 60)),
        "light": (DemandKind.SCHOOL, 1.5, point(60, -60)),
        "far": (DemandKind.STATION, 100.0, point(2000, 2000)),  # outside the jurisdiction
    }
    rows = {
        name: DemandPoint(kind=kind, name=name, weight=w, geom=g, source="test.csv")
        for name, (kind, w, g) in places.items()
    }
    area = square(5)  # a 10 m square around (0, 0): B's and D's views touch it
    rows["plaza"] = DemandPoint(
        kind=DemandKind.OTHER,
        name="plaza",
        weight=4.0,
        geom="SRID=4326;POLYGON((" + ",".join(f"{x} {y}" for x, y in area["coordinates"][0]) + "))",
        source="test.geojson",
    )
    session.add_all(rows.values())
    session.flush()
    return rows


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["name"]: f["properties"] for f in doc["features"]}


def test_which_demand_is_covered_by_how_many(
    client: TestClient, demand: dict[str, DemandPoint], auth: Callable[..., Headers]
) -> None:
    r = client.get("/api/v1/demand", headers=auth(Role.PLANNER))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    found = by_name(r.json())
    seen = {n: (p["covered"], p["cameras"], p["owners"]) for n, p in found.items()}
    assert seen == {
        "in_a": (True, 1, 1),
        "in_b_and_d": (True, 2, 2),
        "in_c": (True, 1, 1),
        "heavy": (False, 0, 0),
        "middle": (False, 0, 0),
        "light": (False, 0, 0),
        "far": (False, 0, 0),
        "plaza": (True, 2, 2),
    }
    assert found["in_a"]["kind"] == "station" and found["in_a"]["weight"] == 2.0

    covered = client.get("/api/v1/demand?covered=true", headers=auth(Role.PLANNER)).json()
    assert set(by_name(covered)) == {"in_a", "in_b_and_d", "in_c", "plaza"}
    schools = client.get("/api/v1/demand?kind=school", headers=auth(Role.PLANNER)).json()
    assert set(by_name(schools)) == {"heavy", "light"}
    west, south = offset(-80, -80)
    east, north = offset(-60, -60)
    strict = client.get(
        f"/api/v1/demand?bbox={west},{south},{east},{north}", headers=auth(Role.PLANNER)
    ).json()
    assert set(by_name(strict)) == {"in_a"}


def test_uncovered_ranked_by_weight_within_the_jurisdiction(
    client: TestClient, demand: dict[str, DemandPoint], auth: Callable[..., Headers]
) -> None:
    h = auth(Role.OPERATOR)
    r = client.get("/api/v1/demand/uncovered?organization=gangnam-gu", headers=h)
    assert r.status_code == 200, r.text
    names = [f["properties"]["name"] for f in r.json()["features"]]
    assert names == ["heavy", "middle", "light"]
    everywhere = client.get("/api/v1/demand/uncovered?limit=2", headers=h).json()
    assert [f["properties"]["name"] for f in everywhere["features"]] == ["far", "heavy"]


def test_a_business_counts_only_its_own_cameras(
    client: TestClient,
    demand: dict[str, DemandPoint],
    make_org: Callable[..., Organization],
    auth: Callable[..., Headers],
) -> None:
    shop = make_org("shop", kind="private_business")
    found = by_name(client.get("/api/v1/demand", headers=auth(Role.BUSINESS, shop)).json())
    assert all(not p["covered"] for p in found.values())


def test_bad_demand_queries(
    client: TestClient, demand: dict[str, DemandPoint], auth: Callable[..., Headers]
) -> None:
    h = auth(Role.ADMIN)
    assert client.get("/api/v1/demand?bbox=1,2,3", headers=h).status_code == 422
    assert client.get("/api/v1/demand?kind=harbour", headers=h).status_code == 422
    assert client.get("/api/v1/demand/uncovered?organization=nope", headers=h).status_code == 404
    assert client.get("/api/v1/demand").status_code == 401
