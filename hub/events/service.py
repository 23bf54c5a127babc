"""Camera events service: store batches (idempotent by event id), page through a camera's events,
and hand the publisher what the broker has not yet taken. Services flush; callers commit."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hub.events import federation
from hub.events.models import CameraEventRow
from hub.paging import newest_first
from hub.registry.models import Camera
from schemas.events import CameraEvent, CameraEventPage, EventKind, NormalizedEvent

log = logging.getLogger(__name__)


def store_events(session: Session, events: Sequence[NormalizedEvent]) -> list[uuid.UUID]:
    """Insert `events` (each with its camera_id); the ids that were new. New ones go to the
    peers whose agreement has `detections` (in the same transaction, through the outbox).

    An id already stored is skipped (a redelivery); an event of a camera deleted meanwhile is
    dropped, since its camera's events are deleted with it.
    """
    if any(event.camera_id is None for event in events):
        raise ValueError("store_events needs events whose camera_id is filled in")
    cameras = {event.camera_id for event in events}
    existing = set(session.scalars(select(Camera.id).where(Camera.id.in_(cameras))))
    rows = [_row(event) for event in events if event.camera_id in existing]
    if len(rows) < len(events):
        log.info("dropped %d events of deleted cameras", len(events) - len(rows))
    if not rows:
        return []
    stmt = (
        insert(CameraEventRow)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[CameraEventRow.id])
        .returning(CameraEventRow.id)
    )
    new = list(session.scalars(stmt))
    fresh = set(new)
    federation.publish(session, [event for event in events if event.id in fresh])
    return new


def _row(event: NormalizedEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "camera_id": event.camera_id,
        "kind": event.kind,
        "occurred_at": event.occurred_at,
        "active": event.active,
        "initial": event.initial,
        "source": event.source,
        "topic": event.topic,
        "subject": event.subject,
        "data": event.data,
        "raw": event.raw,
    }


def event_out(row: CameraEventRow) -> CameraEvent:
    return CameraEvent(
        id=row.id,
        camera_id=row.camera_id,
        kind=row.kind,
        occurred_at=row.occurred_at,
        received_at=row.received_at,
        active=row.active,
        initial=row.initial,
        source=row.source,
        topic=row.topic,
        subject=row.subject,
        data=row.data,
        raw=row.raw,
    )


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventQuery:
    kind: EventKind | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    cursor: str | None = None
    limit: int = 100


def list_events(session: Session, camera_id: uuid.UUID, q: EventQuery) -> CameraEventPage:
    """The camera's events matching `q`, newest first, one keyset page."""
    stmt = select(CameraEventRow).where(CameraEventRow.camera_id == camera_id)
    if q.kind is not None:
        stmt = stmt.where(CameraEventRow.kind == q.kind)
    if q.since is not None:
        stmt = stmt.where(CameraEventRow.occurred_at >= q.since)
    if q.until is not None:
        stmt = stmt.where(CameraEventRow.occurred_at < q.until)
    rows, cursor = newest_first(
        session,
        stmt,
        CameraEventRow.occurred_at,
        CameraEventRow.id,
        q.cursor,
        q.limit,
        lambda row: (row[0].occurred_at, row[0].id),
    )
    return CameraEventPage(items=[event_out(row[0]) for row in rows], next_cursor=cursor)


# --- the outbox of the "events" exchange -----------------------------------------------------


def claim_unpublished(session: Session, limit: int) -> list[CameraEventRow]:
    """The oldest events the broker has not taken, locked so a second publisher skips them."""
    stmt = (
        select(CameraEventRow)
        .where(CameraEventRow.published_at.is_(None))
        .order_by(CameraEventRow.received_at, CameraEventRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def mark_published(session: Session, ids: Sequence[uuid.UUID]) -> None:
    if ids:
        stmt = (
            update(CameraEventRow)
            .where(CameraEventRow.id.in_(ids))
            .values(published_at=datetime.now(UTC))
        )
        session.execute(stmt)
