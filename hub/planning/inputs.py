"""What planning reads from the database: the area, the cameras near it, the demand in it.

Reads only. Geometry comes back as shapely objects in lon/lat, or in a LocalFrame (metres)
centred on the area, which is what the pure planning rules work in.
"""

import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Float, Select, func, select
from sqlalchemy.orm import Session

from hub.coverage.areas import AreaError, parse_area
from hub.coverage.models import DemandPoint
from hub.coverage.sectors import view_ring
from hub.errors import Invalid, NotFound
from hub.planning.geometry import FloatArray, LocalFrame
from hub.registry.consent import on_map
from hub.registry.models import Camera, Organization
from schemas.enums import CameraStatus

DEGREE_M = 111_320.0  # metres per degree of latitude, near enough to widen a search box


@dataclass(frozen=True)
class Area:
    geom: MultiPolygon  # lon/lat
    organization: Organization | None

    @property
    def frame(self) -> LocalFrame:
        c = self.geom.centroid
        return LocalFrame(c.x, c.y)

    @property
    def label(self) -> str:
        return self.organization.slug if self.organization else "drawn area"


def organization_area(session: Session, ref: str, scope: uuid.UUID | None) -> Area:
    """An organization's jurisdiction, by slug or id; 404 if unknown (or not the caller's)."""
    try:
        match = Organization.id == uuid.UUID(ref)
    except ValueError:
        match = Organization.slug == ref
    org = session.scalars(select(Organization).where(match)).one_or_none()
    if org is None or (scope is not None and org.id != scope):
        raise NotFound("Organization", ref)
    if org.jurisdiction is None:
        raise Invalid(
            f"organization {org.slug} has no jurisdiction; set one "
            "(PATCH /api/v1/organizations/{id}) or give the area as GeoJSON",
            "organization",
        )
    wkb: bytes = session.execute(select(func.ST_AsBinary(org.jurisdiction))).scalar_one()
    geom = shapely.from_wkb(bytes(wkb))
    assert isinstance(geom, MultiPolygon)
    return Area(geom, org)


def geojson_area(geometry: Any) -> Area:
    try:
        return Area(parse_area(geometry), None)
    except AreaError as exc:
        raise Invalid(str(exc), "area") from None


def pick_area(
    session: Session, organization: str | None, area: Any, scope: uuid.UUID | None
) -> Area:
    if (organization is None) == (area is None):
        raise Invalid("give exactly one of `organization` (slug or id) and `area` (GeoJSON)")
    if organization is not None:
        return organization_area(session, organization, scope)
    return geojson_area(area)


@dataclass(frozen=True)
class CameraView:
    id: uuid.UUID
    name: str | None
    owner: str
    lon: float
    lat: float
    view: BaseGeometry  # metres, in the area's frame
    assumed_360: bool


def _visible(stmt: Select[Any], scope: uuid.UUID | None) -> Select[Any]:
    stmt = stmt.where(Camera.status != CameraStatus.DECOMMISSIONED, *on_map(scope))
    return stmt.where(Camera.owner_id == scope) if scope is not None else stmt


def cameras_near(
    session: Session, area: Area, scope: uuid.UUID | None, default_range_m: float
) -> list[CameraView]:
    """Cameras whose view may reach into the area (decommissioned ones do not count), their
    views in metres: the registry's sector, or the flagged full circle when it is unknown."""
    reach = _reach_m(session, default_range_m)
    minx, miny, maxx, maxy = area.geom.bounds
    dy = reach / DEGREE_M
    dx = dy / max(0.01, math.cos(math.radians(max(abs(miny), abs(maxy)))))
    box = func.ST_MakeEnvelope(minx - dx, miny - dy, maxx + dx, maxy + dy, 4326)
    stmt = _visible(
        select(
            Camera.id,
            Camera.name,
            Organization.slug,
            func.ST_X(Camera.location).cast(Float),
            func.ST_Y(Camera.location).cast(Float),
            Camera.heading_deg,
            Camera.fov_deg,
            Camera.range_m,
            Camera.ptz,
        )
        .join(Organization, Organization.id == Camera.owner_id)
        .where(Camera.location.op("&&")(box)),
        scope,
    ).order_by(Camera.id)
    frame = area.frame
    reach_area = frame.geometry_to_xy(area.geom).buffer(reach)
    out = []
    for cid, name, owner, lon, lat, heading, fov, rng, ptz in session.execute(stmt):
        ring, assumed = view_ring(
            lon,
            lat,
            heading_deg=heading,
            fov_deg=fov,
            range_m=rng,
            ptz=ptz,
            default_range_m=default_range_m,
        )
        xs, ys = frame.to_xy(np.array([p[0] for p in ring]), np.array([p[1] for p in ring]))
        view = shapely.Polygon(np.column_stack([xs, ys]))
        if view.intersects(reach_area):
            out.append(CameraView(cid, name, owner, lon, lat, view, assumed))
    return out


def _reach_m(session: Session, default_range_m: float) -> float:
    """How far any camera can see: how far outside the area its view may come from."""
    longest = session.scalar(select(func.max(Camera.range_m)))
    return max(default_range_m, float(longest or 0.0))


@dataclass(frozen=True)
class Demand:
    ids: list[uuid.UUID]
    x: FloatArray
    y: FloatArray
    weight: FloatArray


def demand_in(session: Session, area: Area) -> Demand:
    """Demand points in the area (an area of demand stands at a point on its surface)."""
    geom = func.ST_GeomFromWKB(area.geom.wkb, 4326)
    at = func.ST_PointOnSurface(DemandPoint.geom)
    stmt = (
        select(
            DemandPoint.id, func.ST_X(at).cast(Float), func.ST_Y(at).cast(Float), DemandPoint.weight
        )
        .where(func.ST_Intersects(DemandPoint.geom, geom))
        .order_by(DemandPoint.id)
    )
    rows = session.execute(stmt).all()
    xs, ys = area.frame.to_xy(
        np.array([r[1] for r in rows], dtype=float), np.array([r[2] for r in rows], dtype=float)
    )
    return Demand([r[0] for r in rows], xs, ys, np.array([r[3] for r in rows], dtype=float))
