"""Registry queries: geographic and attribute filters, cursor pages, k-nearest, summaries."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from hub.registry.models import Camera, Organization
from hub.registry.params import BBox, decode_cursor, encode_cursor
from schemas.camera import CameraSummary, SummaryBucket
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus, OrganizationKind


@dataclass(frozen=True)
class CameraQuery:
    bbox: BBox | None = None
    near: tuple[float, float] | None = None
    radius_m: float | None = None
    nearest: tuple[float, float] | None = None
    k: int = 10
    covers: tuple[float, float] | None = None
    within_ewkt: str | None = None
    within_org: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    owner_kind: OrganizationKind | None = None
    purpose: CameraPurpose | None = None
    status: CameraStatus | None = None
    adapter: AdapterKind | None = None
    ai_capable: bool | None = None
    tag: str | None = None
    cursor: str | None = None
    limit: int = 100


def _geog(lon: float, lat: float) -> ColumnElement[Any]:
    return func.ST_GeogFromText(f"SRID=4326;POINT({lon} {lat})")


def _geom(lon: float, lat: float) -> ColumnElement[Any]:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


_LOCATION_GEOG = func.geography(Camera.location)


def _filters(q: CameraQuery, scope: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if scope is not None:
        conds.append(Camera.owner_id == scope)
    if q.bbox is not None:
        b = q.bbox
        env = func.ST_MakeEnvelope(b.min_lon, b.min_lat, b.max_lon, b.max_lat, 4326)
        conds.append(Camera.location.op("&&")(env))
    if q.near is not None and q.radius_m is not None:
        conds.append(func.ST_DWithin(_LOCATION_GEOG, _geog(*q.near), q.radius_m))
    if q.covers is not None:
        conds.append(func.ST_Intersects(Camera.fov, _geom(*q.covers)))
    if q.within_ewkt is not None:
        conds.append(func.ST_Intersects(Camera.location, func.ST_GeomFromEWKT(q.within_ewkt)))
    if q.within_org is not None:
        area = select(Organization.jurisdiction).where(Organization.id == q.within_org)
        conds.append(func.ST_Intersects(Camera.location, area.scalar_subquery()))
    if q.owner_id is not None:
        conds.append(Camera.owner_id == q.owner_id)
    if q.owner_kind is not None:
        kind_owners = select(Organization.id).where(Organization.kind == q.owner_kind)
        conds.append(Camera.owner_id.in_(kind_owners))
    for column, value in (
        (Camera.purpose, q.purpose),
        (Camera.status, q.status),
        (Camera.adapter, q.adapter),
        (Camera.ai_capable, q.ai_capable),
    ):
        if value is not None:
            conds.append(column == value)
    if q.tag is not None:
        conds.append(Camera.tags.contains([q.tag]))
    return conds


def search(
    session: Session, q: CameraQuery, scope: uuid.UUID | None
) -> tuple[list[tuple[Camera, float | None]], str | None]:
    """One page of cameras with their distance (near/nearest), and the next page's cursor."""
    conds = _filters(q, scope)
    point = q.nearest or q.near
    distance = func.ST_Distance(_LOCATION_GEOG, _geog(*point)) if point else literal(None)
    # With both nearest and near, distance is measured from `nearest`: k nearest within radius.
    stmt: Select[Any] = select(Camera, distance).where(*conds)
    if q.nearest is not None:
        stmt = stmt.order_by(_LOCATION_GEOG.op("<->")(_geog(*q.nearest))).limit(q.k)
        return [(c, d) for c, d in session.execute(stmt)], None
    if q.cursor is not None:
        stmt = stmt.where(Camera.id > decode_cursor(q.cursor))
    rows = [(c, d) for c, d in session.execute(stmt.order_by(Camera.id).limit(q.limit + 1))]
    if len(rows) > q.limit:
        rows = rows[: q.limit]
        return rows, encode_cursor(rows[-1][0].id)
    return rows, None


def _key(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


def summarize(session: Session, q: CameraQuery, scope: uuid.UUID | None) -> CameraSummary:
    """Records and units by owner, owner kind, purpose, status, install year and AI capability."""
    dims: dict[str, InstrumentedAttribute[Any]] = {
        "by_owner": Organization.slug,
        "by_owner_kind": Organization.kind,
        "by_purpose": Camera.purpose,
        "by_status": Camera.status,
        "by_install_year": Camera.install_year,
        "by_ai_capable": Camera.ai_capable,
    }
    grouped = [func.grouping(col).label(f"g_{name}") for name, col in dims.items()]
    stmt = (
        select(
            *dims.values(),
            Organization.name,
            *grouped,
            func.count().label("records"),
            func.coalesce(func.sum(Camera.units), 0).label("units"),
        )
        .join(Organization, Organization.id == Camera.owner_id)
        .where(*_filters(q, scope))
        .group_by(
            func.grouping_sets(
                tuple_(Organization.slug, Organization.name),
                *list(dims.values())[1:],
                tuple_(),
            )
        )
    )
    buckets: dict[str, list[SummaryBucket]] = {name: [] for name in dims}
    records = units = 0
    for row in session.execute(stmt):
        m = row._mapping
        active = [name for name in dims if m[f"g_{name}"] == 0]
        if not active:
            records, units = int(m["records"]), int(m["units"])
            continue
        name = active[0]
        value = m[dims[name]]
        key = _key(value)
        label = m[Organization.name] if name == "by_owner" else None
        buckets[name].append(
            SummaryBucket(key=key, label=label, records=int(m["records"]), units=int(m["units"]))
        )
    for name in buckets:
        buckets[name].sort(key=lambda b: (-b.units, b.key or ""))
    return CameraSummary(records=records, units=units, **buckets)
