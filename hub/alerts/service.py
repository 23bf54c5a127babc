"""Alerts service: raise alerts for a stored read's hotlist hits, list them, acknowledge them.
Services flush; the request or the task commits."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hub.alerts.models import Alert
from hub.errors import NotFound
from hub.hotlists import service as hotlists
from hub.hotlists.matching import decide
from hub.paging import newest_first
from hub.plates.models import PlateReadRow
from schemas.analytics import PlateRead
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
    rows = [
        {
            "id": uuid.uuid4(),
            "kind": AlertKind.HOTLIST_MATCH,
            "state": AlertState.OPEN,
            "priority": entry.priority,
            "camera_id": read.camera_id,
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
    if not rows:
        return [], False
    stmt = insert(Alert).values(rows).on_conflict_do_nothing().returning(Alert.id)
    ids = list(session.scalars(stmt))
    alerts = list(session.scalars(select(Alert).where(Alert.id.in_(ids)))) if ids else []
    return sorted(alerts, key=lambda a: a.priority), False


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
        read_id=row.read_id,
        read_at=row.read_at,
        evidence=row.evidence,
        entry_id=row.entry_id,
        entry_plate=row.entry_plate,
        category=row.category,
        reason=row.reason,
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
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


def acknowledge(session: Session, alert_id: uuid.UUID) -> Alert:
    """Mark an alert acknowledged; acknowledging it again changes nothing."""
    row = session.get(Alert, alert_id, with_for_update=True)
    if row is None:
        raise NotFound("Alert", alert_id)
    if row.state is AlertState.OPEN:
        row.state = AlertState.ACKNOWLEDGED
        row.acknowledged_at = datetime.now(UTC)
        session.flush()
    return row
