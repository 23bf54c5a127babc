"""Traffic statistics, counted by PostgreSQL from the stored line-crossing events."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import h3
from sqlalchemy import (
    ColumnElement,
    Float,
    SQLColumnExpression,
    String,
    cast,
    func,
    literal,
    null,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Label

from hub.events.models import CameraEventRow
from hub.plates.models import PlateReadRow
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
    Source,
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
    source: Source = Source.LINES


@dataclass(frozen=True)
class _Counted:
    """What one source counts: its camera, time, line, direction and class columns."""

    camera_id: SQLColumnExpression[uuid.UUID]
    at: SQLColumnExpression[datetime]
    line: SQLColumnExpression[str | None]
    direction: SQLColumnExpression[str | None]
    object_class: SQLColumnExpression[str | None]
    only: list[ColumnElement[bool]]


def _counted(source: Source) -> _Counted:
    if source is Source.PLATES:
        r = PlateReadRow
        return _Counted(
            r.camera_id,
            r.read_at,
            null(),
            cast(r.direction, String),
            cast(r.vehicle_class, String),
            [],
        )
    e = CameraEventRow
    return _Counted(
        e.camera_id,
        e.occurred_at,
        e.subject["line"].astext,
        e.data["direction"].astext,
        e.data["class"].astext,
        [e.kind == EventKind.LINE_CROSSING],
    )


def _where(c: _Counted, q: TrafficQuery) -> list[ColumnElement[bool]]:
    conditions = [*c.only, c.at >= q.start, c.at < q.end, *on_map(q.scope)]
    if q.camera_id is not None:
        conditions.append(c.camera_id == q.camera_id)
    if q.scope is not None:
        conditions.append(Camera.owner_id == q.scope)
    return conditions


def traffic(session: Session, q: TrafficQuery) -> TrafficStats:
    c = _counted(q.source)
    bucket = func.date_bin(text(f"interval '{STRIDES[q.interval]}'"), c.at, literal(ORIGIN))
    keys: tuple[Label[Any], ...] = (
        c.camera_id.label("camera_id"),
        bucket.label("start"),
        c.line.label("line"),
        c.direction.label("direction"),
        c.object_class.label("object_class"),
    )
    stmt = (
        select(*keys, func.count().label("count"))
        .join(Camera, Camera.id == c.camera_id)
        .where(*_where(c, q))
        # By position: a source without lines selects a NULL, which GROUP BY cannot name.
        .group_by(text("1, 2, 3, 4, 5"))
        .order_by(text("2, 1, 3, 4, 5"))
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
        source=q.source,
        start=q.start,
        end=q.end,
        total=sum(b.count for b in buckets),
        buckets=buckets,
    )


_CLASSES = {cls.value: cls for cls in ObjectClass}


def _class(value: str | None) -> ObjectClass | None:
    return _CLASSES.get(value) if value is not None else None


def traffic_hexes(session: Session, q: TrafficQuery, resolution: int) -> HexCollection:
    """The counts of each camera summed over the H3 cells the cameras stand in."""
    c = _counted(q.source)
    stmt = (
        select(
            c.camera_id,
            func.ST_X(Camera.location).cast(Float),
            func.ST_Y(Camera.location).cast(Float),
            c.object_class,
            func.count(),
        )
        .join(Camera, Camera.id == c.camera_id)
        .where(*_where(c, q))
        .group_by(c.camera_id, Camera.location, c.object_class)
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
