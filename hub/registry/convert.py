"""ORM rows to contract objects (cameras are written as JSON by PostgreSQL: see query.py)."""

from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from shapely import MultiPolygon as ShapelyMultiPolygon
from shapely import Point as ShapelyPoint

from hub.registry.models import Organization
from schemas import organization as osch
from schemas.geo import MultiPolygon, Point


def point_of(element: WKBElement) -> Point:
    geom = to_shape(element)
    assert isinstance(geom, ShapelyPoint)
    return Point(type="Point", coordinates=[geom.x, geom.y])


def multipolygon_of(element: WKBElement | None) -> MultiPolygon | None:
    if element is None:
        return None
    geom = to_shape(element)
    assert isinstance(geom, ShapelyMultiPolygon)
    return MultiPolygon(
        type="MultiPolygon",
        coordinates=[
            [[[x, y] for x, y in ring.coords] for ring in (p.exterior, *p.interiors)]
            for p in geom.geoms
        ],
    )


def organization_out(row: Organization) -> osch.Organization:
    return osch.Organization(
        id=row.id,
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        jurisdiction=multipolygon_of(row.jurisdiction),
        created_at=row.created_at,
    )
