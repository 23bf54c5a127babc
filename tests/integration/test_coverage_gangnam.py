"""Coverage on the real Gangnam inventory over its dong polygons, checked against an
independent computation: shapely unions of the same circles in the same UTM projection."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely import Point, STRtree, union_all
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from hub.coverage import service
from hub.imports.loader import CameraImportOptions, import_cameras
from hub.settings import Settings
from schemas.enums import OrganizationKind

DONGS = ("Yeoksam 1(il)-dong", "Apgujeong-dong", "Gaepo 4(sa)-dong")
UTM_52N = 32652


@pytest.fixture
def gangnam(connection: Connection, data_dir: Path) -> list[tuple[float, float]]:
    options = CameraImportOptions(owner_column="mng_name", create_owners=OrganizationKind.DISTRICT)
    import_cameras(connection, data_dir / "seoul" / "gangnam_cctv.csv", options)
    rows = connection.execute(text("SELECT ST_X(location), ST_Y(location) FROM cameras"))
    return [(float(x), float(y)) for x, y in rows]


def dong(data_dir: Path, name: str) -> dict[str, Any]:
    path = data_dir / "seoul" / "gangnam_seocho_songpa_dong_2013.geojson"
    features = json.loads(path.read_text())["features"]
    found = next(f for f in features if f["properties"]["name_eng"] == name)
    geometry: dict[str, Any] = found["geometry"]
    return geometry


def utm(geometry: dict[str, Any]) -> BaseGeometry:
    project = Transformer.from_crs(4326, UTM_52N, always_xy=True)

    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(project.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(shape(geometry), move)


def expected(area: dict[str, Any], cameras: list[tuple[float, float]], radius: float) -> float:
    """Covered m² of the area by circles of `radius` around the cameras, in UTM 52N."""
    project = Transformer.from_crs(4326, UTM_52N, always_xy=True).transform
    region = utm(area)
    circles = [Point(project(lon, lat)).buffer(radius, quad_segs=18) for lon, lat in cameras]
    tree = STRtree(circles)
    near = [circles[i] for i in tree.query(region, predicate="intersects")]
    return float(union_all(near).intersection(region).area) if near else 0.0


@pytest.mark.parametrize("name", DONGS)
def test_dong_coverage_matches_an_independent_union(
    session: Session,
    settings: Settings,
    gangnam: list[tuple[float, float]],
    data_dir: Path,
    name: str,
) -> None:
    area = dong(data_dir, name)
    target = service.geojson_target(session, area, settings)
    outcome = service.coverage(session, target, obstacles=False, scope=None, settings=settings)
    result = outcome.entry.result
    radius = settings.coverage_default_range_m
    want = expected(area, gangnam, radius)
    assert want > 10_000  # the dong has cameras: a check with teeth
    assert result["covered_m2"] == pytest.approx(want, rel=0.002)
    assert result["area_m2"] == pytest.approx(utm(area).area, rel=0.001)
    # no camera in the inventory has a heading: every one is an assumed circle, flagged
    assert result["cameras"] > 0 and result["assumed_360"]["count"] == result["cameras"]
    # covered plus gaps is the whole dong
    assert result["covered_m2"] + result["gap_m2"] == pytest.approx(result["area_m2"], rel=1e-4)
    assert set(result["by_owner_kind"]) == {"district"}


def test_whole_gangnam_in_one_area_equals_its_dongs(
    session: Session, settings: Settings, gangnam: list[tuple[float, float]], data_dir: Path
) -> None:
    """Two neighbouring dongs measured together cover what they cover apart: tiles and
    subdivision neither lose nor double any area."""
    a, b = (dong(data_dir, n) for n in ("Yeoksam 1(il)-dong", "Yeoksam 2(i)-dong"))
    joined = union_all([shape(a), shape(b)]).__geo_interface__
    covered = []
    for area in (a, b, joined):
        target = service.geojson_target(session, area, settings)
        outcome = service.coverage(session, target, obstacles=False, scope=None, settings=settings)
        covered.append(outcome.entry.result["covered_m2"])
    assert covered[2] == pytest.approx(covered[0] + covered[1], rel=0.001)
