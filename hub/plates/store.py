"""Plate reads: store them (raising hotlist alerts), search them, trace a vehicle's route, and
keep the daily partitions in step with the retention period. Services flush; callers commit.

Who sees reads follows the registry: a business only its own cameras' reads; node-wide roles
the reads of cameras on the map (a withdrawn or rejected camera's reads are nobody's but its
owner's). The router keeps planners out altogether.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from federation import outbox
from hub.alerts.models import Alert
from hub.alerts.service import apply_hotlists
from hub.errors import Invalid, NotFound
from hub.hotlists.matching import confusion_key, like_pattern
from hub.paging import newest_first
from hub.plates.models import PlateReadRow
from hub.registry.cameras import get_camera
from hub.registry.consent import on_map
from hub.registry.models import Camera
from hub.registry.params import BBox
from schemas.analytics import Box, PlateRead
from schemas.federation import EventType, PlateReadData
from schemas.geo import Point
from schemas.hotlists import (
    LineString,
    PlateReadPage,
    PlateReadStored,
    RouteFeature,
    RouteProperties,
    Sighting,
    StoredPlateRead,
)

RETENTION_DAYS = 60
FUTURE_SKEW = timedelta(minutes=10)  # a posted read's clock may run this far ahead of ours
DAYS_AHEAD = 7
ROUTE_LIMIT = 10_000  # sightings per route; a longer window is asked in pieces
PARTITION_NAME = re.compile(r"^plate_reads_p(\d{8})$")


# --- partitions ------------------------------------------------------------------------------


def ensure_partitions(session: Session, first: date, days: int = DAYS_AHEAD + 1) -> list[str]:
    """Create the daily partitions from `first` on (those missing); their names."""
    call = text("SELECT c4hub_plate_reads_partition(CAST(:day AS date))")
    return [
        str(session.execute(call, {"day": first + timedelta(days=n)}).scalar_one())
        for n in range(days)
    ]


def partitions(session: Session) -> dict[str, date]:
    """The daily partitions of plate_reads and the day each holds."""
    rows = session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'plate_reads'::regclass"
        )
    ).scalars()
    found = {}
    for name in rows:
        m = PARTITION_NAME.match(name)
        if m:
            found[name] = datetime.strptime(m.group(1), "%Y%m%d").date()
    return found


def drop_expired(
    session: Session, now: datetime, retention_days: int = RETENTION_DAYS
) -> list[str]:
    """Drop the partitions whose whole day is older than the retention period: a cheap DROP
    TABLE per day rather than a DELETE of its rows. The names dropped."""
    cutoff = (now - timedelta(days=retention_days)).astimezone(UTC).date()
    dropped = []
    for name, day in sorted(partitions(session).items(), key=lambda item: item[1]):
        if day + timedelta(days=1) <= cutoff:
            session.execute(text(f'DROP TABLE "{name}"'))  # name matched PARTITION_NAME
            dropped.append(name)
    return dropped


def maintain(session: Session, now: datetime, retention_days: int = RETENTION_DAYS) -> list[str]:
    """The daily job: create the week ahead, drop what passed retention; names dropped."""
    ensure_partitions(session, now.astimezone(UTC).date())
    return drop_expired(session, now, retention_days)


# --- storing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What storing a read did: False for a redelivered read (stored before) or one of a
    deleted camera or past retention; the alerts it raised; whether it is exempt."""

    stored: bool
    alerts: list[Alert] = field(default_factory=list)
    exempt: bool = False


def store_read(session: Session, read: PlateRead, now: datetime | None = None) -> Stored:
    """Store a read (idempotent by id), match it against the hotlists and raise its alerts;
    peers whose agreement has plate_reads (and whose area holds the read) get it too.

    Without its own location the read takes its camera's position.
    """
    now = now or datetime.now(UTC)
    if read.read_at < now - timedelta(days=RETENTION_DAYS):
        return Stored(False)
    ensure_partitions(session, read.read_at.date(), 1)
    location: Any = Camera.location
    if read.location is not None:
        location = func.ST_SetSRID(func.ST_MakePoint(read.location.lon, read.location.lat), 4326)
    columns = PlateReadRow.__table__.c
    values = {
        "read_at": read.read_at,
        "id": read.id,
        "plate": read.plate,
        "plate_key": confusion_key(read.plate),
        "raw_text": read.raw_text,
        "confidence": read.confidence,
        "region": read.region,
        "vehicle_class": read.vehicle_class,
        "colour": read.colour,
        "direction": read.direction,
        "track_id": read.track_id,
        "box": read.box.model_dump() if read.box else None,
        "evidence": read.evidence,
    }
    # INSERT ... SELECT from cameras: a read of a camera deleted meanwhile inserts nothing
    source = select(
        *(literal(value, columns[name].type) for name, value in values.items()),
        Camera.id,
        location,
    ).where(Camera.id == read.camera_id)
    stmt = (
        insert(PlateReadRow)
        .from_select([*values, "camera_id", "location"], source)
        .on_conflict_do_nothing(index_elements=["read_at", "id"])
        .returning(func.ST_X(PlateReadRow.location), func.ST_Y(PlateReadRow.location))
    )
    inserted = session.execute(stmt).first()
    if inserted is None:
        return Stored(False)
    if inserted[0] is not None:
        _publish(session, read, (inserted[0], inserted[1]), now)
    alerts, exempt = apply_hotlists(session, read)
    return Stored(True, alerts, exempt)


def _publish(session: Session, read: PlateRead, position: outbox.Position, now: datetime) -> None:
    """Emit the read to the peers an agreement lets plate reads go to at its place."""
    peers = outbox.recipients(session, EventType.PLATE_READ, position, None, now)
    if not peers:
        return  # the common case: no camera name to look up, nothing to write
    name = session.scalar(select(Camera.name).where(Camera.id == read.camera_id))
    data = PlateReadData(
        read_id=read.id,
        plate=read.plate,
        read_at=read.read_at,
        confidence=read.confidence,
        camera_id=read.camera_id,
        camera_name=name,
        position=Point(type="Point", coordinates=[position[0], position[1]]),
        vehicle_class=read.vehicle_class,
        colour=read.colour,
        direction=read.direction,
    )
    outbox.emit(
        session,
        EventType.PLATE_READ,
        data,
        subject=f"plate_read:{read.id}",
        position=position,
        to_peers=peers,
        event_id=read.id,
    )


def post_read(
    session: Session, read: PlateRead, scope: uuid.UUID | None, now: datetime | None = None
) -> PlateReadStored:
    """A read posted through the API: its camera must be the caller's to post for (NotFound
    otherwise) and its time within retention (Invalid); stored as store_read does. A read
    posted before is answered as stored then, raising nothing new."""
    now = now or datetime.now(UTC)
    get_camera(session, read.camera_id, scope)
    if read.read_at < now - timedelta(days=RETENTION_DAYS):
        raise Invalid(f"read_at is older than the {RETENTION_DAYS}-day retention", "read_at")
    if read.read_at > now + FUTURE_SKEW:
        raise Invalid("read_at is in the future; check the camera's clock", "read_at")
    outcome = store_read(session, read, now)
    found = session.execute(
        _reads([PlateReadRow.read_at == read.read_at, PlateReadRow.id == read.id])
    ).first()
    if found is None:  # its camera was deleted meanwhile
        raise NotFound("Camera", read.camera_id)
    return PlateReadStored(
        read=read_out(*found),
        duplicate=not outcome.stored,
        exempt=found[0].enforcement_exempt,
        alert_ids=[alert.id for alert in outcome.alerts],
    )


# --- searching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadQuery:
    plate: str | None = None  # exact, or a partial pattern with ? and *
    fuzzy: bool = False  # compare confusion keys (0/O, 8/B, 1/I, 5/S, 2/Z alike)
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    bbox: BBox | None = None
    camera_id: uuid.UUID | None = None
    cursor: str | None = None
    limit: int = 100


def _visible(scope: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conds = on_map(scope)
    if scope is not None:
        conds.append(Camera.owner_id == scope)
    return conds


def _plate_filter(plate: str, fuzzy: bool) -> ColumnElement[bool]:
    """ValueError for a plate that is neither a plate nor a pattern."""
    pattern = like_pattern(plate)
    column = PlateReadRow.plate_key if fuzzy else PlateReadRow.plate
    if pattern is None:
        wanted = plate.upper()
        return column == (confusion_key(wanted) if fuzzy else wanted)
    return column.like(confusion_key(pattern) if fuzzy else pattern)


def _filters(q: ReadQuery, scope: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conds = _visible(scope)
    if q.plate is not None:
        conds.append(_plate_filter(q.plate, q.fuzzy))
    if q.since is not None:
        conds.append(PlateReadRow.read_at >= q.since)
    if q.until is not None:
        conds.append(PlateReadRow.read_at < q.until)
    if q.camera_id is not None:
        conds.append(PlateReadRow.camera_id == q.camera_id)
    if q.bbox is not None:
        boxes = [func.ST_MakeEnvelope(*box, 4326) for box in q.bbox.envelopes()]
        conds.append(or_(*(func.ST_Intersects(PlateReadRow.location, b) for b in boxes)))
    return conds


def _reads(conds: list[ColumnElement[bool]]) -> Select[Any]:
    lon = func.ST_X(PlateReadRow.location).label("lon")
    lat = func.ST_Y(PlateReadRow.location).label("lat")
    return (
        select(PlateReadRow, lon, lat)
        .join(Camera, Camera.id == PlateReadRow.camera_id)
        .where(*conds)
    )


def read_out(row: PlateReadRow, lon: float | None, lat: float | None) -> StoredPlateRead:
    point = None if lon is None or lat is None else Point(type="Point", coordinates=[lon, lat])
    return StoredPlateRead(
        id=row.id,
        camera_id=row.camera_id,
        read_at=row.read_at,
        plate=row.plate,
        raw_text=row.raw_text,
        confidence=row.confidence,
        region=row.region,
        vehicle_class=row.vehicle_class,
        colour=row.colour,
        direction=row.direction,
        track_id=row.track_id,
        box=Box.model_validate(row.box) if row.box is not None else None,
        evidence=row.evidence,
        location=point,
        enforcement_exempt=row.enforcement_exempt,
    )


def search_reads(session: Session, q: ReadQuery, scope: uuid.UUID | None) -> PlateReadPage:
    """Reads matching `q` the caller may see, newest first, one keyset page."""
    rows, cursor = newest_first(
        session,
        _reads(_filters(q, scope)),
        PlateReadRow.read_at,
        PlateReadRow.id,
        q.cursor,
        q.limit,
        lambda row: (row[0].read_at, row[0].id),
    )
    return PlateReadPage(items=[read_out(*row) for row in rows], next_cursor=cursor)


def route(
    session: Session,
    plate: str,
    scope: uuid.UUID | None,
    since: datetime | None = None,
    until: datetime | None = None,
    fuzzy: bool = False,
) -> RouteFeature:
    """The plate's sightings oldest first (at most ROUTE_LIMIT, the latest), as a LineString
    through the cameras' positions."""
    q = ReadQuery(plate=plate, fuzzy=fuzzy, since=since, until=until)
    conds = [*_filters(q, scope), PlateReadRow.location.is_not(None)]
    latest = _reads(conds).order_by(PlateReadRow.read_at.desc(), PlateReadRow.id.desc())
    rows = list(reversed(session.execute(latest.limit(ROUTE_LIMIT)).all()))
    sightings = [
        Sighting(
            read_id=row.id,
            camera_id=row.camera_id,
            read_at=row.read_at,
            plate=row.plate,
            position=[lon, lat],
        )
        for row, lon, lat in rows
    ]
    positions = [s.position for s in sightings]
    geometry = LineString(type="LineString", coordinates=positions) if len(positions) > 1 else None
    return RouteFeature(
        geometry=geometry,
        properties=RouteProperties(
            plate=plate.upper(),
            sightings=sightings,
            first_seen=sightings[0].read_at if sightings else None,
            last_seen=sightings[-1].read_at if sightings else None,
        ),
    )
