"""Rows to contract objects. Geometry leaves PostGIS as WKB and becomes GeoJSON here."""

from typing import Any

from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from shapely import MultiPolygon as ShapelyMultiPolygon
from shapely import Point as ShapelyPoint
from shapely import Polygon as ShapelyPolygon

from hub.registry.models import Camera, Organization
from schemas import camera as cs
from schemas import organization as osch
from schemas.geo import MultiPolygon, Point, Polygon


def point_of(element: WKBElement) -> Point:
    geom = to_shape(element)
    assert isinstance(geom, ShapelyPoint)
    return Point(type="Point", coordinates=[geom.x, geom.y])


def polygon_of(element: WKBElement | None) -> Polygon | None:
    if element is None:
        return None
    geom = to_shape(element)
    assert isinstance(geom, ShapelyPolygon)
    return Polygon(type="Polygon", coordinates=[[[x, y] for x, y in geom.exterior.coords]])


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


def camera_out(row: Camera, distance_m: float | None = None) -> cs.Camera:
    return cs.Camera(
        id=row.id,
        owner_id=row.owner_id,
        external_id=row.external_id,
        name=row.name,
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        location=point_of(row.location),
        heading_deg=row.heading_deg,
        fov_deg=row.fov_deg,
        range_m=row.range_m,
        mount_height_m=row.mount_height_m,
        ptz=row.ptz,
        vendor=row.vendor,
        model=row.model,
        firmware=row.firmware,
        install_year=row.install_year,
        ai_capable=row.ai_capable,
        adapter=row.adapter,
        stream_uri=row.stream_uri,
        snapshot_uri=row.snapshot_uri,
        has_credentials=row.credentials_sealed is not None,
        status=row.status,
        last_seen_at=row.last_seen_at,
        retention_days=row.retention_days,
        tags=list(row.tags or []),
        units=row.units,
        fov=polygon_of(row.fov),
        created_at=row.created_at,
        updated_at=row.updated_at,
        distance_m=None if distance_m is None else round(distance_m, 2),
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


def camera_feature(camera: cs.Camera) -> dict[str, Any]:
    """A GeoJSON Feature: the camera's position as geometry, everything else as properties."""
    props = camera.model_dump(mode="json", exclude={"id", "location"})
    return {
        "type": "Feature",
        "id": str(camera.id),
        "geometry": camera.location.model_dump(),
        "properties": props,
    }
