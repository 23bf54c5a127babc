"""Areas given as GeoJSON: checked before any SQL sees them. Pure (shapely, no I/O)."""

from typing import Any

from shapely.geometry import MultiPolygon, Polygon

from hub.geojson_checks import GeometryError, Problem, checked_geometry

AREA_TYPES = ("Polygon", "MultiPolygon")


class AreaError(ValueError):
    """Why an area cannot be used, in words fit for the client."""


def parse_area(geometry: Any) -> MultiPolygon:
    """The area as a MultiPolygon in EPSG:4326, or AreaError naming what is wrong with it."""
    if not isinstance(geometry, dict) or geometry.get("type") not in AREA_TYPES:
        raise AreaError("area must be a GeoJSON Polygon or MultiPolygon geometry object")
    try:
        geom = checked_geometry(geometry, "area")
    except GeometryError as exc:
        raise AreaError(_area_message(exc)) from None
    if geom.area == 0:
        raise AreaError("area has no extent (all its positions lie on a line)")
    if isinstance(geom, MultiPolygon):
        return geom
    assert isinstance(geom, Polygon)
    return MultiPolygon([geom])


def _area_message(exc: GeometryError) -> str:
    """The check's words, with what to do where the client can fix the ring."""
    if exc.problem is Problem.EMPTY:
        return f"{exc}: give at least one ring of four or more positions"
    if exc.problem is Problem.INVALID:
        return f"area is not a valid polygon: {exc.detail}; fix the ring and send it again"
    return str(exc)


def area_ewkt(area: MultiPolygon | Polygon) -> str:
    return f"SRID=4326;{area.wkt}"
