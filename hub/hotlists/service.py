"""Hotlist service: add, list, delete entries, and match a read against them. Services flush;
the request or task commits."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from federation.models import Peer
from hub.errors import Conflict, NotFound
from hub.hotlists import federation
from hub.hotlists.matching import confusion_key
from hub.hotlists.models import HotlistEntry
from hub.paging import newest_first
from schemas.hotlists import (
    Category,
    HotlistEntryCreate,
    HotlistEntryOut,
    HotlistEntryPage,
    HotlistEntryUpdate,
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
        issuing_agency=row.issuing_agency,
        origin_node_id=row.origin_node_id,
    )


def create_entry(session: Session, data: HotlistEntryCreate) -> HotlistEntry:
    """Add an entry issued here and publish it to the peers whose agreement has hotlists."""
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
        issuing_agency=data.issuing_agency or federation.node_name(session),
    )
    session.add(row)
    session.flush()
    session.refresh(row)  # created_at from the server
    federation.publish_entry(session, row)
    return row


def get_entry(session: Session, entry_id: uuid.UUID) -> HotlistEntry:
    row = session.get(HotlistEntry, entry_id)
    if row is None:
        raise NotFound("Hotlist entry", entry_id)
    return row


def update_entry(session: Session, entry_id: uuid.UUID, data: HotlistEntryUpdate) -> HotlistEntry:
    """Change an entry issued here and publish the new version; a peer's entry changes only
    when its issuer says so: Conflict."""
    row = session.get(HotlistEntry, entry_id, with_for_update=True)
    if row is None:
        raise NotFound("Hotlist entry", entry_id)
    if row.origin_node_id is not None:
        raise _issued_elsewhere(session, row.origin_node_id, "change")
    for name in data.model_fields_set:
        value = getattr(data, name)
        if value is not None or name == "valid_until":
            setattr(row, name, value)
    if row.valid_until is not None and row.valid_until <= row.valid_from:
        # a rule against the stored entry, not the request alone: a conflict
        raise Conflict(
            f"valid_until must be after the entry's valid_from, {row.valid_from.isoformat()}."
        )
    session.flush()
    federation.publish_entry(session, row)
    return row


def _issued_elsewhere(session: Session, origin: uuid.UUID, action: str) -> Conflict:
    issuer = session.scalar(select(Peer.name).where(Peer.node_id == origin)) or str(origin)
    return Conflict(
        f"This entry was issued by {issuer}; only its issuer can {action} it (peers receive "
        "its changes and revocation)."
    )


def delete_entry(session: Session, entry_id: uuid.UUID) -> None:
    """Remove an entry issued here and tell the peers it was revoked; the alerts it raised
    stay, with their copy of its plate and reason. A peer's entry changes only when its
    issuer revokes it: Conflict."""
    stmt = (
        delete(HotlistEntry)
        .where(HotlistEntry.id == entry_id, HotlistEntry.origin_node_id.is_(None))
        .returning(HotlistEntry.id)
    )
    if session.execute(stmt).first() is not None:
        federation.publish_revocation(session, entry_id, datetime.now(UTC))
        return
    origin = session.scalar(select(HotlistEntry.origin_node_id).where(HotlistEntry.id == entry_id))
    if origin is None:
        raise NotFound("Hotlist entry", entry_id)
    raise _issued_elsewhere(session, origin, "revoke")


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
