"""Alerts service: raise alerts for a stored read's hotlist hits, list them, acknowledge and
close them; each new alert and state change is also emitted to the peers concerned
(hub.alerts.federation). Services flush; the request or the task commits."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from federation.models import NodeIdentity
from federation.outbox import point_wkt
from hub.alerts import federation
from hub.alerts.cap import Sender
from hub.alerts.models import Alert
from hub.errors import NotFound
from hub.hotlists import service as hotlists
from hub.hotlists.matching import decide
from hub.paging import newest_first
from hub.plates.models import PlateReadRow
from hub.registry.convert import point_of
from hub.registry.models import Camera
from schemas.analytics import PlateRead
from schemas.federation import node_source
from schemas.hotlists import AlertKind, AlertOut, AlertPage, AlertState


def apply_hotlists(session: Session, read: PlateRead) -> tuple[list[Alert], bool]:
    """Match a stored read against the hotlists: an alert per black entry hit, none when a
    white entry matches too, and then the read is marked exempt from enforcement. The alerts
    raised (none twice for the same read and entry) and whether the read is exempt."""
    decision = decide(hotlists.match(session, read.plate, read.read_at))
    if decision.exempt:
        session.execute(
            update(PlateReadRow)
            .where(PlateReadRow.read_at == read.read_at, PlateReadRow.id == read.id)
            .values(enforcement_exempt=True)
        )
        return [], True
    if not decision.alert_on:
        return [], False
    camera_name, position = _where(session, read)
    rows = [
        {
            "id": uuid.uuid4(),
            "kind": AlertKind.HOTLIST_MATCH,
            "state": AlertState.OPEN,
            "priority": entry.priority,
            "camera_id": read.camera_id,
            "camera_name": camera_name,
            "position": position,
            "entry_origin_node": entry.origin_node_id,
            "entry_origin_id": entry.origin_entry_id,
            "read_id": read.id,
            "read_at": read.read_at,
            "plate": read.plate,
            "evidence": read.evidence,
            "entry_id": entry.id,
            "entry_plate": entry.plate,
            "category": entry.category,
            "reason": entry.reason,
        }
        for entry in decision.alert_on
    ]
    stmt = insert(Alert).values(rows).on_conflict_do_nothing().returning(Alert.id)
    ids = list(session.scalars(stmt))
    alerts = list(session.scalars(select(Alert).where(Alert.id.in_(ids)))) if ids else []
    for alert in alerts:
        federation.publish_alert(session, alert)
    return sorted(alerts, key=lambda a: a.priority), False


def _where(session: Session, read: PlateRead) -> tuple[str | None, str | None]:
    """The read's camera name and place (its own location, else its camera's) as EWKT."""
    stmt = select(Camera.name, func.ST_X(Camera.location), func.ST_Y(Camera.location)).where(
        Camera.id == read.camera_id
    )
    found = session.execute(stmt).first()
    name = found[0] if found else None
    if read.location is not None:
        lon, lat = read.location.lon, read.location.lat
    elif found is not None and found[1] is not None:
        lon, lat = found[1], found[2]
    else:
        return name, None
    return name, f"SRID=4326;{point_wkt((lon, lat))}"


def raise_for_read(session: Session, read: PlateRead) -> list[Alert]:
    """The alerts a stored read raises (see apply_hotlists)."""
    return apply_hotlists(session, read)[0]


def alert_out(row: Alert) -> AlertOut:
    return AlertOut(
        id=row.id,
        kind=row.kind,
        state=row.state,
        priority=row.priority,
        plate=row.plate,
        camera_id=row.camera_id,
        camera_name=row.camera_name,
        position=point_of(row.position) if row.position is not None else None,
        origin_node_id=row.origin_node_id,
        entry_origin_node=row.entry_origin_node,
        read_id=row.read_id,
        read_at=row.read_at,
        evidence=row.evidence,
        entry_id=row.entry_id,
        entry_plate=row.entry_plate,
        category=row.category,
        reason=row.reason,
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
        closed_at=row.closed_at,
    )


@dataclass(frozen=True)
class AlertQuery:
    state: AlertState | None = None
    camera_id: uuid.UUID | None = None
    plate: str | None = None
    cursor: str | None = None
    limit: int = 100


def list_alerts(session: Session, q: AlertQuery) -> AlertPage:
    """Alerts newest first, one keyset page."""
    stmt = select(Alert)
    if q.state is not None:
        stmt = stmt.where(Alert.state == q.state)
    if q.camera_id is not None:
        stmt = stmt.where(Alert.camera_id == q.camera_id)
    if q.plate is not None:
        stmt = stmt.where(Alert.plate == q.plate)
    rows, cursor = newest_first(
        session,
        stmt,
        Alert.created_at,
        Alert.id,
        q.cursor,
        q.limit,
        lambda row: (row[0].created_at, row[0].id),
    )
    return AlertPage(items=[alert_out(r[0]) for r in rows], next_cursor=cursor)


def get_alert(session: Session, alert_id: uuid.UUID) -> Alert:
    row = session.get(Alert, alert_id)
    if row is None:
        raise NotFound("Alert", alert_id)
    return row


def acknowledge(session: Session, alert_id: uuid.UUID) -> Alert:
    """Mark an alert acknowledged; acknowledging it again (or a closed one) changes nothing."""
    return _move(session, alert_id, AlertState.ACKNOWLEDGED)


def close(session: Session, alert_id: uuid.UUID) -> Alert:
    """Close an alert (acknowledging it too if it was open); closing it again changes nothing."""
    return _move(session, alert_id, AlertState.CLOSED)


def _move(session: Session, alert_id: uuid.UUID, state: AlertState) -> Alert:
    """Move the alert forward to `state` and tell the peers concerned."""
    row = session.get(Alert, alert_id, with_for_update=True)
    if row is None:
        raise NotFound("Alert", alert_id)
    now = datetime.now(UTC)
    if federation.advance(row, state, now):
        session.flush()
        federation.publish_state(session, row, now)
    return row


def cap_sender(session: Session, host: str) -> Sender:
    """The CAP sender: this node's URN and name; before `c4hub init`, the host it serves."""
    node = session.scalars(select(NodeIdentity)).one_or_none()
    if node is None:
        return Sender(sender=f"c4hub@{host}", name=f"c4hub node {host}")
    return Sender(sender=node_source(node.node_id), name=node.name)
