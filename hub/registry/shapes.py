"""GeoJSON area geometries to PostGIS input, with topological validation. Pure."""

from shapely import MultiPolygon as ShapelyMultiPolygon
from shapely import Polygon as ShapelyPolygon
from shapely.geometry import shape
from shapely.validation import explain_validity

from schemas.geo import MultiPolygon, Polygon


def multipolygon_ewkt(geometry: Polygon | MultiPolygon) -> str:
    """EWKT of the area as a MultiPolygon; ValueError says why an invalid one is refused."""
    geom = shape(geometry.model_dump())
    if not geom.is_valid:
        raise ValueError(f"invalid polygon: {explain_validity(geom)}")
    if geom.is_empty or geom.area == 0:
        raise ValueError("invalid polygon: it has no area")
    if isinstance(geom, ShapelyPolygon):
        geom = ShapelyMultiPolygon([geom])
    return f"SRID=4326;{geom.wkt}"
