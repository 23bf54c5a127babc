"""Batch footprints of the import against the API's fov_ring: the same polygons, point by point."""

import random
from typing import NamedTuple

import pytest
from shapely import Polygon, wkb

from hub.imports.footprints import footprints_ewkb
from hub.registry.fov import fov_ring


class Camera(NamedTuple):
    lon: float
    lat: float
    heading_deg: float | None
    fov_deg: float | None
    range_m: float | None
    ptz: bool


def reference(c: Camera) -> list[tuple[float, float]] | None:
    return fov_ring(
        c.lon, c.lat, heading_deg=c.heading_deg, fov_deg=c.fov_deg, range_m=c.range_m, ptz=c.ptz
    )


def ring_of(ewkb: bytes) -> list[tuple[float, float]]:
    polygon = wkb.loads(ewkb)
    assert isinstance(polygon, Polygon)
    return [(x, y) for x, y in polygon.exterior.coords]


def random_cameras(count: int, seed: int) -> list[Camera]:
    rnd = random.Random(seed)
    return [
        Camera(
            rnd.uniform(-180, 180),
            rnd.uniform(-85, 85),
            rnd.choice([None, 0.0, 359.9, rnd.uniform(0, 360)]),
            rnd.choice([None, 0.5, 5.0, 60.0, rnd.uniform(0.1, 360), 360.0]),
            rnd.choice([None, 0.0, 1.0, 50.0, rnd.uniform(1, 20000)]),
            rnd.random() < 0.2,
        )
        for _ in range(count)
    ]


def test_footprints_match_fov_ring() -> None:
    cameras = random_cameras(3000, seed=11)
    made = footprints_ewkb(cameras)
    shapes = 0
    for camera, ewkb in zip(cameras, made, strict=True):
        expected = reference(camera)
        if expected is None:
            assert ewkb is None, camera
            continue
        assert ewkb is not None, camera
        assert ring_of(ewkb) == pytest.approx(expected, abs=1e-9), camera
        shapes += 1
    assert shapes > 1000  # the sample exercises sectors and circles, not only the None cases


def test_footprints_carry_srid_4326() -> None:
    camera = Camera(127.03, 37.5, 90.0, 60.0, 50.0, False)
    (ewkb,) = footprints_ewkb([camera])
    assert ewkb is not None
    assert ewkb.hex().startswith("0103000020e6100000")  # little endian, Polygon + SRID flag, 4326


@pytest.mark.parametrize(
    ("camera", "points"),
    [
        (Camera(127.0, 37.5, 0.0, 60.0, 50.0, False), 12 + 1 + 2),  # apex, 13 arc points, apex
        (Camera(127.0, 37.5, None, None, 50.0, True), 72 + 1),  # PTZ: closed circle
        (Camera(127.0, 37.5, None, 360.0, 50.0, False), 72 + 1),  # dome: closed circle
    ],
)
def test_footprint_shapes(camera: Camera, points: int) -> None:
    (ewkb,) = footprints_ewkb([camera])
    assert ewkb is not None
    assert len(ring_of(ewkb)) == points


def test_no_footprint_without_what_it_needs() -> None:
    cameras = [
        Camera(127.0, 37.5, 90.0, 60.0, None, False),  # no range
        Camera(127.0, 37.5, None, 60.0, 50.0, False),  # fixed, no heading
        Camera(127.0, 37.5, 90.0, None, 50.0, False),  # fixed, no FOV
    ]
    assert footprints_ewkb(cameras) == [None, None, None]
    assert footprints_ewkb([]) == []
