import math

import pytest
from shapely.geometry import Point, Polygon

from hub.registry.fov import destination, fov_ring, ring_wkt


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (b[0] - a[0]) * 111_320 * math.cos(lat)
    dy = (b[1] - a[1]) * 110_574
    return math.hypot(dx, dy)


def test_destination_north_moves_latitude_only() -> None:
    lon, lat = destination(127.0, 37.5, 0, 1000)
    assert lon == pytest.approx(127.0, abs=1e-7)
    assert lat == pytest.approx(37.5 + 1000 / 111_000, abs=1e-4)


def test_sector_points_east_with_given_range() -> None:
    ring = fov_ring(127.0, 37.5, heading_deg=90, fov_deg=60, range_m=100, ptz=False)
    assert ring is not None
    assert ring[0] == ring[-1] == (127.0, 37.5)
    arc = ring[1:-1]
    for p in arc:
        assert _metres(ring[0], p) == pytest.approx(100, rel=0.01)
    poly = Polygon(ring)
    assert poly.is_valid
    east = destination(127.0, 37.5, 90, 50)
    north = destination(127.0, 37.5, 0, 50)
    assert poly.contains(Point(east))
    assert not poly.contains(Point(north))


def test_sector_across_north_wraps_heading() -> None:
    ring = fov_ring(127.0, 37.5, heading_deg=350, fov_deg=40, range_m=100, ptz=False)
    assert ring is not None
    poly = Polygon(ring)
    assert poly.contains(Point(destination(127.0, 37.5, 5, 50)))
    assert not poly.contains(Point(destination(127.0, 37.5, 30, 50)))


@pytest.mark.parametrize(("fov", "ptz"), [(360.0, False), (None, True), (90.0, True)])
def test_ptz_and_full_circle_cover_every_direction(fov: float | None, ptz: bool) -> None:
    ring = fov_ring(127.0, 37.5, heading_deg=None, fov_deg=fov, range_m=80, ptz=ptz)
    assert ring is not None
    poly = Polygon(ring)
    for bearing in (0, 90, 180, 270):
        assert poly.contains(Point(destination(127.0, 37.5, bearing, 70)))


@pytest.mark.parametrize(
    ("heading", "fov", "rng"), [(None, 60.0, 100.0), (90.0, None, 100.0), (90.0, 60.0, None)]
)
def test_no_footprint_without_enough_inputs(
    heading: float | None, fov: float | None, rng: float | None
) -> None:
    assert fov_ring(127.0, 37.5, heading_deg=heading, fov_deg=fov, range_m=rng, ptz=False) is None


def test_narrow_fov_still_makes_a_polygon() -> None:
    ring = fov_ring(0.0, 0.0, heading_deg=0, fov_deg=0.5, range_m=100, ptz=False)
    assert ring is not None
    assert len(ring) == 4
    assert Polygon(ring).is_valid


def test_ring_wkt_is_ewkt_polygon() -> None:
    assert ring_wkt([(0, 0), (1, 0), (1, 1), (0, 0)]) == "SRID=4326;POLYGON((0 0,1 0,1 1,0 0))"
