"""Redundancy and placement on the real Gangnam inventory, checked against an independent
computation (shapely unions of the same circles in UTM 52N)."""

import csv
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely import Point, STRtree, union_all
from shapely.geometry import shape
from sqlalchemy import Connection, text

from hub.imports.loader import CameraImportOptions, import_cameras
from hub.registry.models import Organization
from schemas.enums import OrganizationKind, Role
from schemas.geo import MultiPolygon, Polygon

DEFAULT_RANGE_M = 30.0  # C4HUB_COVERAGE_DEFAULT_RANGE_M: the cameras record no heading or range
UTM = Transformer.from_crs(4326, 32652, always_xy=True).transform


def _feature(path: Path, name: str) -> dict[str, Any]:
    features = json.loads(path.read_text())["features"]
    geometry: dict[str, Any] = next(
        f["geometry"] for f in features if f["properties"]["name_eng"] == name
    )
    return geometry


@pytest.fixture
def gangnam(
    connection: Connection, data_dir: Path, make_org: Callable[..., Organization]
) -> list[tuple[float, float]]:
    outline = _feature(data_dir / "seoul" / "seoul_gu_2013.geojson", "Gangnam-gu")
    area = (MultiPolygon if outline["type"] == "MultiPolygon" else Polygon).model_validate(outline)
    make_org("gangnam-gu", jurisdiction=area)
    options = CameraImportOptions(owner_column="mng_name", create_owners=OrganizationKind.DISTRICT)
    import_cameras(connection, data_dir / "seoul" / "gangnam_cctv.csv", options)
    rows = connection.execute(text("SELECT ST_X(location), ST_Y(location) FROM cameras"))
    return [(float(x), float(y)) for x, y in rows]


def _circle(lon: float, lat: float) -> Any:
    return Point(UTM(lon, lat)).buffer(DEFAULT_RANGE_M, quad_segs=18)


def test_cameras_sharing_a_site_are_redundant_and_the_moved_stay_covered(
    client: TestClient,
    auth: Callable[..., dict[str, str]],
    gangnam: list[tuple[float, float]],
    data_dir: Path,
) -> None:
    r = client.get("/api/v1/planning/redundant?organization=gangnam-gu", headers=auth(Role.PLANNER))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["assumed_360"]["count"] >= body["cameras"] > 1700
    found = {tuple(c["location"]): c for c in body["redundant"]}
    # Every site the CSV lists twice or more is a near-duplicate: each wholly covered.
    with (data_dir / "seoul" / "gangnam_cctv.csv").open(encoding="utf-8") as f:
        sites = Counter(
            (float(row["longitude"]), float(row["latitude"])) for row in csv.DictReader(f)
        )
    shared = [site for site, n in sites.items() if n > 1]
    assert len(shared) == 18
    for site in shared:
        assert found[site]["share"] == pytest.approx(1.0), site
    # The cameras marked movable may all go: the ones that stay still cover 80 % of each.
    moved = [c for c in body["redundant"] if c["movable"]]
    assert len(moved) >= len(shared)
    moved_at = Counter(tuple(c["location"]) for c in moved)
    staying = list(sites_left(gangnam, moved_at))
    tree = STRtree(staying)
    for c in moved:
        view = _circle(*c["location"])
        near = [staying[i] for i in tree.query(view, predicate="intersects")]
        assert union_all(near).intersection(view).area / view.area >= 0.8 - 0.01, c


def sites_left(cameras: list[tuple[float, float]], moved: Counter[tuple[float, float]]) -> Any:
    left = Counter(moved)
    for lon, lat in cameras:
        if left[(lon, lat)] > 0:
            left[(lon, lat)] -= 1
            continue
        yield _circle(lon, lat)


def test_a_relocation_plan_for_a_dong(
    client: TestClient,
    auth: Callable[..., dict[str, str]],
    gangnam: list[tuple[float, float]],
    data_dir: Path,
) -> None:
    dong = _feature(data_dir / "seoul" / "gangnam_seocho_songpa_dong_2013.geojson",
                    "Yeoksam 1(il)-dong")  # fmt: skip
    h = auth(Role.PLANNER)
    redundant = client.post("/api/v1/planning/redundant", headers=h, json={"area": dong}).json()
    movable = [c for c in redundant["redundant"] if c["movable"]]
    assert movable
    body = {"area": dong, "k": len(movable) + 5, "candidates": "grid", "grid_m": 50,
            "relocate": True, "range_m": 30}  # fmt: skip
    r = client.post("/api/v1/planning/plans", headers=h, json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    totals = plan["properties"]["totals"]
    assert totals["proposed"] == body["k"] and totals["relocated"] == len(movable)
    actions = [f["properties"]["action"] for f in plan["features"]]
    assert actions == ["relocate"] * len(movable) + ["new"] * 5
    assert {f["properties"]["camera_id"] for f in plan["features"][: len(movable)]} == {
        c["camera_id"] for c in movable
    }
    # Each moved view was at least 80 % covered by the rest: at most a fifth of it is lost.
    circle = 3.1416 * 30 * 30
    assert totals["lost_area_m2"] <= 0.2 * circle * len(movable) + 1
    gains = [f["properties"]["gain_area_m2"] for f in plan["features"]]
    assert all(0 < g <= circle for g in gains), gains
    assert totals["net_area_m2"] == pytest.approx(totals["gain_area_m2"] - totals["lost_area_m2"])
    assert shape(dong).contains(Point(plan["features"][0]["geometry"]["coordinates"]))
