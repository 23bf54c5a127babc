"""Planning API on PostGIS: redundant cameras, plans stored and exported, bad input."""

import csv
import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.coverage.models import DemandKind, DemandPoint, PlanningPlan, PlanningProposal
from hub.registry import cameras as camera_service
from hub.registry.fov import destination
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enums import OrganizationKind, Role
from schemas.geo import Point, Polygon

Headers = dict[str, str]
CENTRE = (127.03, 37.5)
HALF_SIDE_M = 200.0


def at(east_m: float, north_m: float) -> tuple[float, float]:
    lon, lat = destination(*CENTRE, 90, east_m) if east_m else CENTRE
    return destination(lon, lat, 0, north_m) if north_m else (lon, lat)


def square() -> dict[str, Any]:
    h = HALF_SIDE_M
    ring = [at(-h, -h), at(h, -h), at(h, h), at(-h, h), at(-h, -h)]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


@pytest.fixture
def district(make_org: Callable[..., Organization]) -> Organization:
    return make_org("test-gu", jurisdiction=Polygon.model_validate(square()))


def camera(
    session: Session, box: CredentialBox, owner: Organization, where: tuple[float, float], **f: Any
) -> Camera:
    point = Point(type="Point", coordinates=list(where))
    return camera_service.create_camera(session, box, CameraCreate(location=point, **f), owner.id)


def demand(session: Session, where: tuple[float, float], weight: float, name: str) -> None:
    session.add(
        DemandPoint(
            kind=DemandKind.STATION,
            name=name,
            weight=weight,
            geom=f"SRID=4326;POINT({where[0]} {where[1]})",
            source="test.csv",
            line=2,
        )
    )
    session.flush()


@pytest.fixture
def fleet(session: Session, box: CredentialBox, district: Organization) -> dict[str, Camera]:
    """Two cameras at one site with one sector (near-duplicates), one with no heading."""
    sector = {"heading_deg": 90.0, "fov_deg": 60.0, "range_m": 50.0}
    return {
        "a": camera(session, box, district, at(-150, 0), name="A", **sector),
        "b": camera(session, box, district, at(-150, 0), name="B", **sector),
        "c": camera(session, box, district, at(0, -150), name="C"),  # no heading: 360°, 30 m
        "d": camera(session, box, district, at(150, 150), name="D", heading_deg=0.0,
                    fov_deg=90.0, range_m=40.0),
    }  # fmt: skip


def test_redundant_lists_the_twin_cameras_and_which_may_move(
    client: TestClient, auth: Callable[..., Headers], fleet: dict[str, Camera]
) -> None:
    r = client.get("/api/v1/planning/redundant?organization=test-gu", headers=auth(Role.PLANNER))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["share"] == 0.8 and body["cameras"] == 4
    found = {item["name"]: item for item in body["redundant"]}
    assert set(found) == {"A", "B"}
    assert found["A"]["share"] == pytest.approx(1.0)
    assert found["A"]["covered_by"] == [str(fleet["b"].id)]
    assert sorted(item["movable"] for item in found.values()) == [False, True]
    assert body["assumed_360"] == {"count": 1, "camera_ids": [str(fleet["c"].id)]}
    strict = client.get(
        "/api/v1/planning/redundant?organization=test-gu&share=1", headers=auth(Role.PLANNER)
    )
    assert {i["name"] for i in strict.json()["redundant"]} == {"A", "B"}


def test_plan_over_given_sites_ranks_by_demand_and_exports(
    client: TestClient,
    auth: Callable[..., Headers],
    session: Session,
    fleet: dict[str, Camera],
) -> None:
    demand(session, at(100, -100), 5.0, "station")
    demand(session, at(-100, 100), 1.0, "market")
    demand(session, at(-130, 0), 9.0, "seen already")  # inside A's view
    sites = [at(-130, 0), at(-100, 100), at(100, -100)]
    body = {
        "organization": "test-gu",
        "k": 3,
        "candidates": "sites",
        "sites": [{"type": "Point", "coordinates": list(s)} for s in sites],
        "range_m": 20,
        "unit_price": 1000,
    }
    r = client.post("/api/v1/planning/plans", headers=auth(Role.PLANNER), json=body)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/geo+json"
    plan = r.json()
    assert r.headers["location"].endswith(f"/api/v1/planning/plans/{plan['id']}")
    ranks = [(f["properties"]["rank"], f["properties"]["gain_demand"]) for f in plan["features"]]
    assert ranks == [(1, 5.0), (2, 1.0), (3, 0.0)]
    first = plan["features"][0]
    assert first["geometry"]["coordinates"] == pytest.approx(list(sites[2]), abs=1e-6)
    assert first["properties"]["action"] == "new" and first["properties"]["saved_cost"] == 0
    assert 1150 < first["properties"]["gain_area_m2"] < 1350  # π·20² = 1257
    # Site 0 stands in A's and B's view: only what they leave uncovered is gained.
    assert plan["features"][2]["properties"]["gain_area_m2"] < 1000
    totals = plan["properties"]["totals"]
    assert totals["proposed"] == 3 and totals["gain_demand"] == 6.0
    assert totals["demand_points"] == 3 and totals["demand_weight"] == 15.0
    assert totals["cost_new"] == 3000 and totals["stopped_early"] is None
    assert totals["assumed_360"]["count"] == 1

    got = client.get(f"/api/v1/planning/plans/{plan['id']}", headers=auth(Role.OPERATOR))
    assert got.json() == plan
    (listed,) = client.get("/api/v1/planning/plans", headers=auth(Role.PLANNER)).json()
    assert listed["id"] == plan["id"] and listed["totals"] == totals
    assert listed["href"] == r.headers["location"]
    exported = client.get(
        f"/api/v1/planning/plans/{plan['id']}/proposals.csv", headers=auth(Role.ADMIN)
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["rank"] for row in rows] == ["1", "2", "3"]
    assert float(rows[0]["longitude"]) == pytest.approx(sites[2][0], abs=1e-6)
    assert rows[0]["gain_demand"] == "5.0" and rows[0]["camera_id"] == ""


def test_relocation_moves_one_twin_first_and_saves_its_price(
    client: TestClient, auth: Callable[..., Headers], fleet: dict[str, Camera]
) -> None:
    body = {"organization": "test-gu", "k": 2, "candidates": "grid", "grid_m": 100,
            "relocate": True, "unit_price": 700}  # fmt: skip
    r = client.post("/api/v1/planning/plans", headers=auth(Role.ADMIN), json=body)
    assert r.status_code == 201, r.text
    features = r.json()["features"]
    moved = features[0]["properties"]
    assert moved["action"] == "relocate"
    assert moved["camera_id"] in {str(fleet["a"].id), str(fleet["b"].id)}
    assert moved["saved_cost"] == 700 and moved["redundant_share"] == pytest.approx(1.0)
    assert features[1]["properties"]["action"] == "new"
    totals = r.json()["properties"]["totals"]
    assert totals["relocated"] == 1 and totals["saved_cost"] == 700
    assert totals["lost_area_m2"] == 0  # its twin still sees everything it saw
    assert totals["candidates"] == 16  # a 100 m grid over a 400 m square


def test_plan_stops_early_when_no_site_adds_anything(
    client: TestClient, auth: Callable[..., Headers], session: Session, district: Organization
) -> None:
    demand(session, at(10, 10), 2.0, "a")
    demand(session, at(10.1, 10), 3.0, "b")
    body = {"organization": "test-gu", "k": 2, "candidates": "demand", "range_m": 30}
    r = client.post("/api/v1/planning/plans", headers=auth(Role.PLANNER), json=body)
    assert r.status_code == 201, r.text
    totals = r.json()["properties"]["totals"]
    assert totals["candidates"] == 2 and totals["proposed"] == 1
    assert "only 1 of the 2 candidate sites" in totals["stopped_early"]


def _problem(r: Any, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    for word in words:
        assert word in r.json()["detail"]


def test_bad_plan_requests_are_refused_and_store_nothing(
    client: TestClient, auth: Callable[..., Headers], session: Session, district: Organization
) -> None:
    h = auth(Role.PLANNER)
    url = "/api/v1/planning/plans"

    def post(**body: Any) -> Any:
        return client.post(url, headers=h, json=body)

    gu: dict[str, Any] = {"organization": "test-gu", "k": 1}
    _problem(post(**gu | {"k": 17, "grid_m": 100}), 422, "k=17", "16 candidate sites")
    _problem(post(k=1), 422, "exactly one")
    empty = {"type": "Polygon", "coordinates": [[[127, 37], [127, 37], [127, 37], [127, 37]]]}
    _problem(post(area=empty, k=1), 422, "area")
    _problem(post(organization="nowhere", k=1), 404)
    _problem(post(**gu, candidates="demand"), 422, "no demand points")
    far = [{"type": "Point", "coordinates": [128.0, 37.0]}]
    _problem(post(**gu, candidates="sites", sites=far), 422, "sites[0] lies outside")
    _problem(post(**gu, candidates="sites"), 422, "needs `sites`")
    _problem(post(area=_big_area(), k=1, grid_m=5), 422, "C4HUB_PLANNING_MAX_CANDIDATES")
    _problem(client.get(f"{url}/{uuid.uuid4()}", headers=h), 404)
    assert session.scalar(select(func.count()).select_from(PlanningPlan)) == 0
    assert session.scalar(select(func.count()).select_from(PlanningProposal)) == 0


def _big_area() -> dict[str, Any]:
    ring = [[127.0, 37.4], [127.1, 37.4], [127.1, 37.5], [127.0, 37.5], [127.0, 37.4]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_a_business_may_not_plan_and_weighs_only_its_own_cameras(
    client: TestClient,
    auth: Callable[..., Headers],
    make_org: Callable[..., Organization],
    session: Session,
    box: CredentialBox,
    fleet: dict[str, Camera],
) -> None:
    shop = make_org(
        "shop", OrganizationKind.PRIVATE_BUSINESS, jurisdiction=Polygon.model_validate(square())
    )
    camera(session, box, shop, at(-150, 0), name="S", heading_deg=90.0, fov_deg=60.0, range_m=50.0)
    h = auth(Role.BUSINESS, shop)
    r = client.post("/api/v1/planning/plans", headers=h, json={"organization": "shop", "k": 1})
    _problem(r, 403, "planner")
    r = client.get("/api/v1/planning/redundant?organization=shop", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["cameras"] == 1 and r.json()["redundant"] == []
    _problem(client.get("/api/v1/planning/redundant?organization=test-gu", headers=h), 404)
