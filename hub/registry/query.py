"""Registry queries: geographic and attribute filters, cursor pages, k-nearest, summaries."""

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Numeric,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import InstrumentedAttribute, Session

from hub.errors import Invalid, NotFound
from hub.registry.consent import addresses_shown, on_map
from hub.registry.models import Camera, Organization
from hub.registry.organizations import get_organization
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
    within_org_ref: str | None = None  # organization id or slug, as the caller wrote it
    owner_ref: str | None = None
    within_org: uuid.UUID | None = None  # the references, resolved by `resolve`
    owner_id: uuid.UUID | None = None
    owner_kind: OrganizationKind | None = None
    purpose: CameraPurpose | None = None
    status: CameraStatus | None = None
    adapter: AdapterKind | None = None
    ai_capable: bool | None = None
    tag: str | None = None
    cursor: str | None = None
    limit: int = 100


def resolve(session: Session, q: CameraQuery) -> CameraQuery:
    """Look up the organizations a query names; unknown ones are 404, as for any reference."""
    changes: dict[str, Any] = {"within_org_ref": None, "owner_ref": None}
    if q.within_org_ref is not None:
        org = get_organization(session, q.within_org_ref)
        if org.jurisdiction is None:
            raise Invalid(f"organization {org.slug} has no jurisdiction", "within_org")
        changes["within_org"] = org.id
    if q.owner_ref is not None:
        changes["owner_id"] = get_organization(session, q.owner_ref).id
    return replace(q, **changes) if q.within_org_ref or q.owner_ref else q


def _point_ewkt(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon} {lat})"


def _geog(lon: float, lat: float) -> ColumnElement[Any]:
    return func.ST_GeogFromText(_point_ewkt(lon, lat))


def _geom(lon: float, lat: float) -> ColumnElement[Any]:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


_LOCATION_GEOG = func.geography(Camera.location)


def _filters(q: CameraQuery, scope: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = on_map(scope)
    if scope is not None:
        conds.append(Camera.owner_id == scope)
    if q.bbox is not None:
        boxes = [func.ST_MakeEnvelope(*box, 4326) for box in q.bbox.envelopes()]
        conds.append(or_(*(Camera.location.op("&&")(box) for box in boxes)))
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


# A camera as the API shows it, built as JSON text by PostgreSQL/PostGIS: loading ORM objects
# and serializing them in Python cost several times the query on a 100-camera page. The keys and
# types follow schemas.camera.Camera; tests validate responses against it.
def _key(name: str) -> ColumnElement[Any]:
    return literal_column(f"'{name}'")


def _json_object(fields: dict[str, Any]) -> ColumnElement[Any]:
    return func.json_build_object(*(part for k, v in fields.items() for part in (_key(k), v)))


# Who reads the document: an enrolled camera's addresses are shown to its owner only.
_VIEWER = bindparam("viewer", type_=UUID)


def _address(column: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    return case((addresses_shown(_VIEWER), column), else_=null())


def _camera_fields(distance: ColumnElement[Any]) -> dict[str, Any]:
    c = Camera
    point = func.json_build_array(func.ST_X(c.location), func.ST_Y(c.location))
    return {
        "id": c.id,
        "owner_id": c.owner_id,
        "external_id": c.external_id,
        "name": c.name,
        "purpose": c.purpose,
        "legal_basis": c.legal_basis,
        "location": _json_object({"type": literal_column("'Point'"), "coordinates": point}),
        "heading_deg": c.heading_deg,
        "fov_deg": c.fov_deg,
        "range_m": c.range_m,
        "mount_height_m": c.mount_height_m,
        "ptz": c.ptz,
        "vendor": c.vendor,
        "model": c.model,
        "firmware": c.firmware,
        "install_year": c.install_year,
        "ai_capable": c.ai_capable,
        "adapter": c.adapter,
        "stream_uri": _address(c.stream_uri),
        "snapshot_uri": _address(c.snapshot_uri),
        "device_uri": _address(c.device_uri),
        "capabilities": c.capabilities,
        "streams": _address(c.streams),
        "has_credentials": c.credentials_sealed.is_not(None),
        "status": c.status,
        "last_seen_at": c.last_seen_at,
        "retention_days": c.retention_days,
        "tags": c.tags,
        "units": c.units,
        "fov": cast(func.ST_AsGeoJSON(c.fov, 7), JSON),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "distance_m": func.round(cast(distance, Numeric), 2),
    }


def camera_document(distance: ColumnElement[Any], *, feature: bool) -> ColumnElement[str]:
    """JSON text of a camera, or of a GeoJSON Feature with the position as its geometry."""
    fields = _camera_fields(distance)
    if feature:
        props = {k: v for k, v in fields.items() if k not in ("id", "location")}
        fields = {
            "type": literal_column("'Feature'"),
            "id": fields["id"],
            "geometry": fields["location"],
            "properties": _json_object(props),
        }
    return cast(_json_object(fields), Text)


# Built once: constructing the 30-field expression cost more than running a k-nearest query.
_ORIGIN = bindparam("origin", type_=Text)
_DISTANCE = func.ST_Distance(_LOCATION_GEOG, func.ST_GeogFromText(_ORIGIN))
_DOCUMENTS = {
    (feature, measured): camera_document(_DISTANCE if measured else null(), feature=feature)
    for feature in (False, True)
    for measured in (False, True)
}


def camera_document_by_id(
    session: Session, camera_id: uuid.UUID, scope: uuid.UUID | None, *, feature: bool = False
) -> str:
    """One camera's JSON; outside the caller's scope, or off the map, it does not exist for
    them. `scope` is also the viewer the addresses are shown to (see consent)."""
    stmt = select(_DOCUMENTS[feature, False]).where(Camera.id == camera_id, *on_map(scope))
    if scope is not None:
        stmt = stmt.where(Camera.owner_id == scope)
    doc = session.scalar(stmt, {"viewer": scope})
    if doc is None:
        raise NotFound("Camera", camera_id)
    return doc


def search(
    session: Session, q: CameraQuery, scope: uuid.UUID | None, *, features: bool = False
) -> tuple[list[str], str | None]:
    """One page of cameras as JSON texts (with distance_m for near/nearest), and the cursor."""
    q = resolve(session, q)
    # With both nearest and near, distance is measured from `nearest`: k nearest within radius.
    point = q.nearest or q.near
    params: dict[str, Any] = {"viewer": scope}
    if point:
        params["origin"] = _point_ewkt(*point)
    stmt = select(_DOCUMENTS[features, point is not None], Camera.id)
    stmt = stmt.where(*_filters(q, scope))
    if q.nearest is not None:
        stmt = stmt.order_by(_LOCATION_GEOG.op("<->")(func.ST_GeogFromText(_ORIGIN))).limit(q.k)
        return [doc for doc, _ in session.execute(stmt, params)], None
    if q.cursor is not None:
        stmt = stmt.where(Camera.id > decode_cursor(q.cursor))
    rows = session.execute(stmt.order_by(Camera.id).limit(q.limit + 1), params).all()
    if len(rows) > q.limit:
        return [doc for doc, _ in rows[: q.limit]], encode_cursor(rows[q.limit - 1][1])
    return [doc for doc, _ in rows], None


def _bucket_key(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


def summarize(session: Session, q: CameraQuery, scope: uuid.UUID | None) -> CameraSummary:
    """Records and units by owner, owner kind, purpose, status, install year and AI capability."""
    q = resolve(session, q)
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
        key = _bucket_key(value)
        label = m[Organization.name] if name == "by_owner" else None
        buckets[name].append(
            SummaryBucket(key=key, label=label, records=int(m["records"]), units=int(m["units"]))
        )
    for name in buckets:
        buckets[name].sort(key=lambda b: (-b.units, b.key or ""))
    return CameraSummary(records=records, units=units, **buckets)
