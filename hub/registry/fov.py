"""Field-of-view footprints: pure spherical geometry, no I/O.

A fixed camera sees a circular sector (apex at the camera, radius = range, opening = FOV around
the heading); a PTZ camera or a 360° dome can look anywhere within its range, so its footprint is
the full circle. Without a range, or a fixed camera without heading/FOV, nothing is derived.
"""

import math

EARTH_RADIUS_M = 6_371_008.8
ARC_STEP_DEG = 5.0
CIRCLE_SEGMENTS = 72

Ring = list[tuple[float, float]]


def destination(
    lon: float, lat: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """The point `distance_m` away from (lon, lat) along the great circle at `bearing_deg`."""
    phi1, lam1 = math.radians(lat), math.radians(lon)
    theta, delta = math.radians(bearing_deg), distance_m / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return (round(math.degrees(lam2), 7), round(math.degrees(phi2), 7))


def fov_ring(
    lon: float,
    lat: float,
    *,
    heading_deg: float | None,
    fov_deg: float | None,
    range_m: float | None,
    ptz: bool,
) -> Ring | None:
    """The closed outer ring of the camera's footprint, or None when it cannot be derived."""
    if range_m is None or range_m <= 0:
        return None
    if ptz or (fov_deg is not None and fov_deg >= 360):
        step = 360.0 / CIRCLE_SEGMENTS
        ring = [destination(lon, lat, i * step, range_m) for i in range(CIRCLE_SEGMENTS)]
        return [*ring, ring[0]]
    if heading_deg is None or fov_deg is None:
        return None
    start = heading_deg - fov_deg / 2
    steps = max(1, math.ceil(fov_deg / ARC_STEP_DEG))
    arc = [destination(lon, lat, start + fov_deg * i / steps, range_m) for i in range(steps + 1)]
    apex = (round(lon, 7), round(lat, 7))
    return [apex, *arc, apex]


def ring_wkt(ring: Ring) -> str:
    """EWKT of a polygon with this one ring, in EPSG:4326."""
    coords = ",".join(f"{x} {y}" for x, y in ring)
    return f"SRID=4326;POLYGON(({coords}))"


def point_wkt(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon} {lat})"
