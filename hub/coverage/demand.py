"""Demand points against the cameras: which are covered, by how many cameras and owners.

A point is covered when it lies in a camera's field of view (or in the assumed circle of a
camera without one, see hub.coverage.sectors); an area when a view touches it. Read-only.
Obstacles are not applied here: they clip only the area coverage. The OGC collection
`demand-points` (hub.ogc.planning) counts with the same expressions.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Float, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from hub.coverage.models import DemandKind, DemandPoint
from hub.enrolment.rules import Use
from hub.enrolment.service import permits_clause
from hub.registry.models import Camera, Organization
from hub.registry.params import BBox
from schemas.enums import CameraStatus


def _reach_deg(default_range_m: float) -> ColumnElement[Any]:
    """How far (in degrees, generously) an assumed circle can reach: computed once per query
    (an InitPlan), so the GiST index on cameras.location bounds the search around each place."""
    default = literal(default_range_m, Float)
    longest = select(func.max(func.coalesce(Camera.range_m, default))).where(Camera.fov.is_(None))
    return func.coalesce(longest.scalar_subquery(), default) * 2 / 111_000


def sees_demand(default_range_m: float, scope: uuid.UUID | None) -> ColumnElement[bool]:
    """On Camera: it counts for this caller (a business: its own cameras; others: those on the
    map) and its view, or assumed circle, reaches the demand point or area."""
    default = literal(default_range_m, Float)
    here, place = cast(Camera.location, Geography), cast(DemandPoint.geom, Geography)
    visible = Camera.owner_id == scope if scope is not None else permits_clause(Use.MAP)
    return and_(
        Camera.status != CameraStatus.DECOMMISSIONED,
        visible,
        or_(
            and_(Camera.fov.is_not(None), func.ST_Intersects(Camera.fov, DemandPoint.geom)),
            and_(
                Camera.fov.is_(None),
                Camera.location.op("&&")(
                    func.ST_Expand(DemandPoint.geom, _reach_deg(default_range_m))
                ),
                func.ST_DWithin(here, place, func.coalesce(Camera.range_m, default)),
            ),
        ),
    )


def cameras_seeing(default_range_m: float, scope: uuid.UUID | None) -> ColumnElement[int]:
    # Scalar subqueries, not (NOT) EXISTS: the planner would turn those into an anti-join over
    # all cameras instead of an index lookup around each place.
    sees = sees_demand(default_range_m, scope)
    return select(func.count()).select_from(Camera).where(sees).scalar_subquery()


def owners_seeing(default_range_m: float, scope: uuid.UUID | None) -> ColumnElement[int]:
    sees = sees_demand(default_range_m, scope)
    owners = func.count(func.distinct(Camera.owner_id))
    return select(owners).select_from(Camera).where(sees).scalar_subquery()


@dataclass(frozen=True)
class DemandQuery:
    kind: DemandKind | None = None
    covered: bool | None = None
    bbox: BBox | None = None
    within_org: uuid.UUID | None = None  # inside this organization's jurisdiction
    limit: int = 1000
    ranked: bool = False  # by weight, heaviest first; else in id order


def _conditions(q: DemandQuery, seen: ColumnElement[int]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.kind is not None:
        where.append(DemandPoint.kind == q.kind)
    if q.covered is not None:
        where.append(seen > 0 if q.covered else seen == 0)
    if q.bbox is not None:
        boxes = [func.ST_MakeEnvelope(*box, 4326) for box in q.bbox.envelopes()]
        where.append(or_(*(func.ST_Intersects(DemandPoint.geom, box) for box in boxes)))
    if q.within_org is not None:
        area = select(Organization.jurisdiction).where(Organization.id == q.within_org)
        where.append(func.ST_Intersects(DemandPoint.geom, area.scalar_subquery()))
    return where


def demand_features(
    session: Session, q: DemandQuery, *, scope: uuid.UUID | None, default_range_m: float
) -> list[dict[str, Any]]:
    """GeoJSON Features of the matching demand points with their coverage."""
    seen = cameras_seeing(default_range_m, scope)
    order = (
        (DemandPoint.weight.desc(), DemandPoint.name.asc().nulls_last(), DemandPoint.id)
        if q.ranked
        else (DemandPoint.id,)
    )
    stmt = (
        select(
            DemandPoint,
            func.ST_AsGeoJSON(DemandPoint.geom, 7).label("geometry"),
            seen.label("cameras"),
            owners_seeing(default_range_m, scope).label("owners"),
        )
        .where(*_conditions(q, seen))
        .order_by(*order)
        .limit(q.limit)
    )
    features = []
    for point, geometry, cameras, owners in session.execute(stmt):
        features.append(
            {
                "type": "Feature",
                "id": str(point.id),
                "geometry": json.loads(geometry),
                "properties": {
                    "kind": point.kind.value,
                    "name": point.name,
                    "weight": point.weight,
                    "covered": cameras > 0,
                    "cameras": cameras,
                    "owners": owners,
                    "source": point.source,
                    "line": point.line,
                },
            }
        )
    return features
