"""The shared GeoJSON checks: what passes, and each problem worded with the caller's label."""

from typing import Any

import pytest
from shapely.geometry import Point, Polygon

from hub.geojson_checks import GeometryError, Problem, checked_geometry

SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
BOWTIE = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]


def test_a_good_geometry_comes_back_as_shapely() -> None:
    polygon = checked_geometry({"type": "Polygon", "coordinates": [SQUARE]}, "area")
    assert isinstance(polygon, Polygon) and polygon.equals(Polygon(SQUARE))
    point = checked_geometry({"type": "Point", "coordinates": [127.03, 37.5]}, "geometry")
    assert point == Point(127.03, 37.5)


def test_the_corners_of_the_world_are_inside_it() -> None:
    world = [[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]
    assert checked_geometry({"type": "Polygon", "coordinates": [world]}, "area").area == 360 * 180


NOT_GEOJSON = r"^zone is not valid GeoJSON \(.+\)$"
RANGE = "zone has positions outside longitude -180..180 / latitude -90..90"


@pytest.mark.parametrize(
    ("geometry", "problem", "message"),
    [
        ({"type": "Polygon", "coordinates": "x"}, Problem.NOT_GEOJSON, NOT_GEOJSON),
        ({"type": "Polygon"}, Problem.NOT_GEOJSON, NOT_GEOJSON),  # no coordinates at all
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, Problem.NOT_GEOJSON, NOT_GEOJSON),
        ({"type": "Polygon", "coordinates": []}, Problem.EMPTY, "^zone is empty$"),
        ({"type": "MultiPolygon", "coordinates": []}, Problem.EMPTY, "^zone is empty$"),
        (
            {"type": "Polygon", "coordinates": [BOWTIE]},
            Problem.INVALID,
            r"^zone is invalid: Self-intersection\[0.5 0.5\]$",
        ),
        ({"type": "Point", "coordinates": [181, 0]}, Problem.OUT_OF_RANGE, f"^{RANGE}$"),
        ({"type": "Point", "coordinates": [0, -90.5]}, Problem.OUT_OF_RANGE, f"^{RANGE}$"),
    ],
)
def test_each_problem_is_named_with_the_label(
    geometry: dict[str, Any], problem: Problem, message: str
) -> None:
    with pytest.raises(GeometryError, match=message) as caught:
        checked_geometry(geometry, "zone")
    assert caught.value.problem is problem


def test_the_detail_is_the_reason_alone() -> None:
    with pytest.raises(GeometryError) as caught:
        checked_geometry({"type": "Polygon", "coordinates": [BOWTIE]}, "area")
    assert caught.value.detail == "Self-intersection[0.5 0.5]"
    with pytest.raises(GeometryError) as caught:
        checked_geometry({"type": "Polygon", "coordinates": "x"}, "area")
    assert caught.value.detail and caught.value.detail in str(caught.value)
