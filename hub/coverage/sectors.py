"""A camera's field of view as a polygon, and the local metric projection to measure it in. Pure.

A camera whose view the registry cannot derive (no heading, or no range) is taken as a full
circle around it: of its own range when it records one, else of the configured default range
(C4HUB_COVERAGE_DEFAULT_RANGE_M). Results flag such cameras as `assumed_360`.
"""

import math
from typing import NamedTuple

from hub.registry.fov import CIRCLE_SEGMENTS, Ring, destination, fov_ring

# PostGIS' ST_Buffer draws a circle with 4 * quad_segs segments: 72 like hub.registry.fov.
QUAD_SEGS = CIRCLE_SEGMENTS // 4


class View(NamedTuple):
    ring: Ring
    assumed_360: bool


def circle_ring(lon: float, lat: float, radius_m: float) -> Ring:
    step = 360.0 / CIRCLE_SEGMENTS
    ring = [destination(lon, lat, i * step, radius_m) for i in range(CIRCLE_SEGMENTS)]
    return [*ring, ring[0]]


def view_ring(
    lon: float,
    lat: float,
    *,
    heading_deg: float | None,
    fov_deg: float | None,
    range_m: float | None,
    ptz: bool,
    default_range_m: float,
) -> View:
    """The camera's footprint, or the assumed full circle (flagged) when it is unknown."""
    ring = fov_ring(lon, lat, heading_deg=heading_deg, fov_deg=fov_deg, range_m=range_m, ptz=ptz)
    if ring is not None:
        return View(ring, assumed_360=False)
    radius = range_m if range_m is not None and range_m > 0 else default_range_m
    return View(circle_ring(lon, lat, radius), assumed_360=True)


def utm_srid(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone holding (lon, lat): areas there are in square metres
    with a scale error under 0.1 %, far below what camera ranges are known to."""
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise ValueError("the area must lie between 80°S and 84°N for a metric projection")
    zone = min(60, math.floor((lon + 180.0) / 6.0) + 1)
    return (32600 if lat >= 0 else 32700) + zone


def sector_polygon_area_m2(range_m: float, fov_deg: float, arc_steps: int) -> float:
    """Planar area of a sector drawn as apex + `arc_steps` chords: the triangles' sum. Used to
    check measured areas by hand (the drawn polygon is slightly smaller than the true sector)."""
    step = math.radians(fov_deg / arc_steps)
    return arc_steps * 0.5 * range_m * range_m * math.sin(step)
