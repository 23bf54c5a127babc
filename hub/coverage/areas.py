"""Areas given as GeoJSON: checked before any SQL sees them. Pure (shapely, no I/O)."""

from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

AREA_TYPES = ("Polygon", "MultiPolygon")


class AreaError(ValueError):
    """Why an area cannot be used, in words fit for the client."""


def parse_area(geometry: Any) -> MultiPolygon:
    """The area as a MultiPolygon in EPSG:4326, or AreaError naming what is wrong with it."""
    if not isinstance(geometry, dict) or geometry.get("type") not in AREA_TYPES:
        raise AreaError("area must be a GeoJSON Polygon or MultiPolygon geometry object")
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise AreaError(f"area is not valid GeoJSON ({exc})") from None
    if geom.is_empty:
        raise AreaError("area is empty: give at least one ring of four or more positions")
    reason = shapely.is_valid_reason(geom)
    if reason != "Valid Geometry":
        raise AreaError(f"area is not a valid polygon: {reason}; fix the ring and send it again")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise AreaError("area has positions outside longitude -180..180 / latitude -90..90")
    if geom.area == 0:
        raise AreaError("area has no extent (all its positions lie on a line)")
    if isinstance(geom, MultiPolygon):
        return geom
    assert isinstance(geom, Polygon)
    return MultiPolygon([geom])


def area_ewkt(area: MultiPolygon | Polygon) -> str:
    return f"SRID=4326;{area.wkt}"
