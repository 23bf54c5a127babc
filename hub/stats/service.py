"""Traffic statistics, counted by PostgreSQL from the stored line-crossing events."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import h3
from sqlalchemy import ColumnElement, Float, func, literal, select, text
from sqlalchemy.orm import Session

from hub.events.models import CameraEventRow
from hub.registry.consent import on_map
from hub.registry.models import Camera
from schemas.analytics import ObjectClass
from schemas.events import EventKind
from schemas.stats import (
    HexCollection,
    HexFeature,
    HexGeometry,
    HexProperties,
    Interval,
    TrafficBucket,
    TrafficStats,
)

STRIDES = {
    Interval.QUARTER_HOUR: "15 minutes",
    Interval.HOUR: "1 hour",
    Interval.DAY: "1 day",
}
ORIGIN = datetime(2000, 1, 3)  # a Monday, midnight: days and hours start where people expect


@dataclass(frozen=True)
class TrafficQuery:
    start: datetime
    end: datetime
    interval: Interval = Interval.HOUR
    camera_id: uuid.UUID | None = None
    scope: uuid.UUID | None = None  # a business sees its own cameras only


def _crossings(q: TrafficQuery) -> list[ColumnElement[bool]]:
    e = CameraEventRow
    conditions = [
        e.kind == EventKind.LINE_CROSSING,
        e.occurred_at >= q.start,
        e.occurred_at < q.end,
        *on_map(q.scope),
    ]
    if q.camera_id is not None:
        conditions.append(e.camera_id == q.camera_id)
    if q.scope is not None:
        conditions.append(Camera.owner_id == q.scope)
    return conditions


def traffic(session: Session, q: TrafficQuery) -> TrafficStats:
    e = CameraEventRow
    bucket = func.date_bin(
        text(f"interval '{STRIDES[q.interval]}'"), e.occurred_at, literal(ORIGIN)
    ).label("start")
    line = e.subject["line"].astext.label("line")
    direction = e.data["direction"].astext.label("direction")
    cls = e.data["class"].astext.label("object_class")
    stmt = (
        select(e.camera_id, bucket, line, direction, cls, func.count().label("count"))
        .join(Camera, Camera.id == e.camera_id)
        .where(*_crossings(q))
        .group_by(e.camera_id, bucket, line, direction, cls)
        .order_by(bucket, e.camera_id, line, direction, cls)
    )
    buckets = [
        TrafficBucket(
            camera_id=row.camera_id,
            start=row.start,
            line=row.line,
            direction=row.direction,
            object_class=_class(row.object_class),
            count=row.count,
        )
        for row in session.execute(stmt)
    ]
    return TrafficStats(
        interval=q.interval,
        start=q.start,
        end=q.end,
        total=sum(b.count for b in buckets),
        buckets=buckets,
    )


_CLASSES = {cls.value: cls for cls in ObjectClass}


def _class(value: str | None) -> ObjectClass | None:
    return _CLASSES.get(value) if value is not None else None


def traffic_hexes(session: Session, q: TrafficQuery, resolution: int) -> HexCollection:
    """The crossings of each camera summed over the H3 cells the cameras stand in."""
    e = CameraEventRow
    cls = e.data["class"].astext
    stmt = (
        select(
            e.camera_id,
            func.ST_X(Camera.location).cast(Float),
            func.ST_Y(Camera.location).cast(Float),
            cls,
            func.count(),
        )
        .join(Camera, Camera.id == e.camera_id)
        .where(*_crossings(q))
        .group_by(e.camera_id, Camera.location, cls)
    )
    cells: dict[str, dict[str, int]] = {}
    cameras: dict[str, set[uuid.UUID]] = {}
    for camera_id, lon, lat, object_class, count in session.execute(stmt):
        cell = h3.latlng_to_cell(lat, lon, resolution)
        by_class = cells.setdefault(cell, {})
        by_class[object_class or ""] = by_class.get(object_class or "", 0) + count
        cameras.setdefault(cell, set()).add(camera_id)
    return HexCollection(
        features=[
            _hex(cell, resolution, by_class, len(cameras[cell]))
            for cell, by_class in sorted(cells.items())
        ]
    )


def _hex(cell: str, resolution: int, by_class: dict[str, int], cameras: int) -> HexFeature:
    ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return HexFeature(
        id=cell,
        geometry=HexGeometry(coordinates=[ring]),
        properties=HexProperties(
            cell=cell,
            resolution=resolution,
            count=sum(by_class.values()),
            cameras=cameras,
            by_class={_CLASSES[k]: v for k, v in by_class.items() if k in _CLASSES},
        ),
    )
