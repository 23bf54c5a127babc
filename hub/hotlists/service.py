"""Hotlist service: add, list, delete entries, and match a read against them. Services flush;
the request or task commits."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.hotlists.matching import confusion_key
from hub.hotlists.models import HotlistEntry
from hub.paging import newest_first
from schemas.hotlists import (
    Category,
    HotlistEntryCreate,
    HotlistEntryOut,
    HotlistEntryPage,
    ListKind,
    Tolerance,
)


def entry_out(row: HotlistEntry) -> HotlistEntryOut:
    return HotlistEntryOut(
        id=row.id,
        plate=row.plate,
        kind=row.kind,
        category=row.category,
        reason=row.reason,
        legal_basis=row.legal_basis,
        priority=row.priority,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        source=row.source,
        tolerance=row.tolerance,
        created_at=row.created_at,
    )


def create_entry(session: Session, data: HotlistEntryCreate) -> HotlistEntry:
    row = HotlistEntry(
        plate=data.plate,
        key=confusion_key(data.plate),
        kind=data.category.kind,
        category=data.category,
        reason=data.reason,
        legal_basis=data.legal_basis,
        priority=data.priority,
        valid_from=data.valid_from or datetime.now(UTC),
        valid_until=data.valid_until,
        source=data.source,
        tolerance=data.tolerance,
    )
    session.add(row)
    session.flush()
    session.refresh(row)  # created_at from the server
    return row


def get_entry(session: Session, entry_id: uuid.UUID) -> HotlistEntry:
    row = session.get(HotlistEntry, entry_id)
    if row is None:
        raise NotFound("Hotlist entry", entry_id)
    return row


def delete_entry(session: Session, entry_id: uuid.UUID) -> None:
    """Remove an entry; the alerts it raised stay, with their copy of its plate and reason."""
    stmt = delete(HotlistEntry).where(HotlistEntry.id == entry_id).returning(HotlistEntry.id)
    if session.execute(stmt).first() is None:
        raise NotFound("Hotlist entry", entry_id)


@dataclass(frozen=True)
class EntryQuery:
    plate: str | None = None  # entries that would match this plate now (exact or confusable)
    category: Category | None = None
    kind: ListKind | None = None
    source: str | None = None
    cursor: str | None = None
    limit: int = 100


def list_entries(session: Session, q: EntryQuery) -> HotlistEntryPage:
    """Entries newest first, one keyset page."""
    stmt = select(HotlistEntry)
    if q.plate is not None:
        stmt = stmt.where(*_hits(q.plate))
    if q.category is not None:
        stmt = stmt.where(HotlistEntry.category == q.category)
    if q.kind is not None:
        stmt = stmt.where(HotlistEntry.kind == q.kind)
    if q.source is not None:
        stmt = stmt.where(HotlistEntry.source == q.source)
    rows, cursor = newest_first(
        session,
        stmt,
        HotlistEntry.created_at,
        HotlistEntry.id,
        q.cursor,
        q.limit,
        lambda row: (row[0].created_at, row[0].id),
    )
    return HotlistEntryPage(items=[entry_out(r[0]) for r in rows], next_cursor=cursor)


def _hits(plate: str) -> list[ColumnElement[bool]]:
    # the key equality is what the index answers; an exact entry also needs the plate itself
    return [
        HotlistEntry.key == confusion_key(plate),
        or_(HotlistEntry.tolerance == Tolerance.CONFUSABLE, HotlistEntry.plate == plate),
    ]


_MATCH = select(HotlistEntry).where(
    HotlistEntry.key == bindparam("key"),
    or_(HotlistEntry.tolerance == Tolerance.CONFUSABLE, HotlistEntry.plate == bindparam("plate")),
    HotlistEntry.valid_from <= bindparam("at"),
    or_(HotlistEntry.valid_until.is_(None), HotlistEntry.valid_until > bindparam("at")),
)


def match(session: Session, plate: str, at: datetime) -> list[HotlistEntry]:
    """The entries a read of `plate` at `at` hits: the same rule as matching.matches, in SQL
    (one index probe on the confusion key)."""
    params = {"key": confusion_key(plate), "plate": plate, "at": at}
    return list(session.scalars(_MATCH, params))
