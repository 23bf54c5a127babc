"""Pure coverage geometry: views, assumed circles, projections, area checks, demand rows."""

import math

import pytest
from shapely import Polygon

from hub.coverage.areas import AreaError, parse_area
from hub.coverage.sectors import circle_ring, sector_polygon_area_m2, utm_srid, view_ring
from hub.imports.demand_rows import (
    Columns,
    demand_row,
    error_summary,
    obstacle_ewkt,
    plan_columns,
)
from hub.imports.errors import ColumnError
from hub.imports.readers import Record
from hub.imports.rows import RowError


def test_a_camera_with_a_view_is_not_assumed() -> None:
    view = view_ring(
        127.0, 37.5, heading_deg=90, fov_deg=60, range_m=40, ptz=False, default_range_m=30
    )
    assert not view.assumed_360
    assert view.ring[0] == view.ring[-1] == (127.0, 37.5)  # the apex closes the sector
    assert len(view.ring) == 12 + 1 + 2  # 12 arc steps of 5°: 13 arc points, apex twice


@pytest.mark.parametrize(
    ("heading", "range_m", "radius"), [(None, None, 30.0), (None, 55.0, 55.0), (45.0, None, 30.0)]
)
def test_unknown_views_are_circles_of_their_range_or_the_default(
    heading: float | None, range_m: float | None, radius: float
) -> None:
    view = view_ring(
        127.0, 37.5, heading_deg=heading, fov_deg=90, range_m=range_m, ptz=False,
        default_range_m=30,
    )  # fmt: skip
    assert view.assumed_360
    assert view.ring == circle_ring(127.0, 37.5, radius)
    # the first vertex lies due north at the radius: 1° of latitude is ~111.2 km
    assert (view.ring[0][1] - 37.5) * 111_195 == pytest.approx(radius, rel=1e-3)


def test_utm_zone_of_seoul_hanoi_and_the_south() -> None:
    assert utm_srid(127.03, 37.5) == 32652
    assert utm_srid(105.85, 21.03) == 32648
    assert utm_srid(-58.4, -34.6) == 32721
    assert utm_srid(180.0, 10.0) == 32660
    with pytest.raises(ValueError, match="80°S and 84°N"):
        utm_srid(0, 85)


def test_sector_polygon_area_by_hand() -> None:
    # a quarter circle of 50 m drawn with 18 chords: 18 triangles of 0.5 * r² * sin(5°)
    assert sector_polygon_area_m2(50, 90, 18) == pytest.approx(1961.0, abs=0.1)
    assert sector_polygon_area_m2(50, 90, 18) < math.pi * 50**2 / 4  # chords cut the arc


SQUARE = [[0.0, 0.0], [0.001, 0.0], [0.001, 0.001], [0.0, 0.001], [0.0, 0.0]]


def test_a_polygon_area_becomes_a_multipolygon() -> None:
    area = parse_area({"type": "Polygon", "coordinates": [SQUARE]})
    assert area.geom_type == "MultiPolygon" and len(area.geoms) == 1
    assert area.geoms[0].equals(Polygon(SQUARE))


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (None, "GeoJSON Polygon or MultiPolygon"),
        ({"type": "LineString", "coordinates": SQUARE}, "GeoJSON Polygon or MultiPolygon"),
        ({"type": "Polygon", "coordinates": []}, "area is empty"),
        ({"type": "MultiPolygon", "coordinates": []}, "area is empty"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, "area is not"),
        ({"type": "Polygon", "coordinates": "x"}, "area is not"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "Self-intersection",
        ),
        (
            {"type": "Polygon", "coordinates": [[[179, 0], [181, 0], [181, 1], [179, 0]]]},
            "outside longitude",
        ),
    ],
)
def test_bad_areas_say_why(geometry: object, message: str) -> None:
    with pytest.raises(AreaError, match=message):
        parse_area(geometry)


HEADERS = ("latitude", "longitude", "place", "riders")


def record(*values: object, number: int = 2) -> Record:
    return Record(number, HEADERS, list(values))


def test_demand_csv_row() -> None:
    columns = plan_columns(HEADERS, csv=True, name_column=None, weight_column="riders")
    assert columns == Columns(lat=0, lon=1, name=2, weight=3)
    row = demand_row(record("37.5", "127.03", "Gangnam stn", "12.5"), columns, 1.0)
    assert row.ewkt == "SRID=4326;POINT(127.03 37.5)"
    assert (row.name, row.weight, row.line) == ("Gangnam stn", 12.5, 2)
    assert row.properties == {"place": "Gangnam stn"}
    # a blank weight cell falls back to the default weight
    assert demand_row(record("37.5", "127.03", "x", " "), columns, 2.0).weight == 2.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("abc", "127", "x", "1"), "latitude 'abc' is not a number"),
        (("", "127", "x", "1"), "latitude is empty"),
        (("37.5", "181", "x", "1"), "longitude 181 is outside -180..180"),
        (("37.5", "127", "x", "-3"), "weight -3 must be above 0"),
        (("37.5", "127", "x", "nan"), "is not a finite number"),
    ],
)
def test_bad_demand_rows(values: tuple[str, ...], message: str) -> None:
    columns = plan_columns(HEADERS, csv=True, name_column=None, weight_column="riders")
    with pytest.raises(RowError, match=message):
        demand_row(record(*values), columns, 1.0)


def test_demand_columns_must_exist() -> None:
    with pytest.raises(ColumnError, match="no latitude/longitude columns"):
        plan_columns(("place",), csv=True, name_column=None, weight_column=None)
    with pytest.raises(ColumnError, match="--weight-column w: no such column"):
        plan_columns(HEADERS, csv=True, name_column=None, weight_column="w")


def test_obstacles_must_be_areas() -> None:
    square = {"type": "Polygon", "coordinates": [SQUARE]}
    feature = Record(1, (), [], square, {"type": "Feature", "geometry": square})
    assert obstacle_ewkt(feature).startswith("SRID=4326;MULTIPOLYGON (((0 0")
    point = {"type": "Point", "coordinates": [0, 0]}
    with pytest.raises(RowError, match="Polygon or MultiPolygon, not Point"):
        obstacle_ewkt(Record(2, (), [], point, {"type": "Feature", "geometry": point}))


def test_error_summary_lists_the_first_twenty() -> None:
    errors = [f"line {n}: bad" for n in range(2, 32)]
    summary = error_summary(errors, "line")
    assert summary.startswith("30 bad records (line numbers from the file): line 2: bad; ")
    assert "line 21: bad; and 10 more; fix them" in summary
    assert "line 22" not in summary
