"""The audit log of federated queries: every question this node asked its peers and every one
it answered (or refused), with the purpose and case number that justified it. Services flush;
the request commits."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from federation.models import AuditEntry
from schemas.federation import (
    AuditEntryOut,
    AuditPage,
    AuditRole,
    PeerAnswerStatus,
    PeerQuery,
)


def record(
    session: Session,
    role: AuditRole,
    query: PeerQuery,
    actor: str,
    peer_node_id: uuid.UUID | None,
    status: PeerAnswerStatus,
    count: int,
    elapsed_ms: float | None,
) -> AuditEntry:
    """One row: who asked what of whom, why, and how it went."""
    entry = AuditEntry(
        role=role.value,
        query_id=query.query_id,
        kind=query.query.kind.value,
        params=query.query.model_dump(mode="json", by_alias=True, exclude_none=True),
        purpose=query.purpose,
        case_number=query.case_number,
        actor=actor[:200],
        peer_node_id=peer_node_id,
        status=status.value,
        result_count=count,
        elapsed_ms=elapsed_ms,
    )
    session.add(entry)
    session.flush()
    return entry


def entry_out(row: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=row.id,
        at=row.at,
        role=AuditRole(row.role),
        query_id=row.query_id,
        kind=row.kind,
        params=row.params,
        purpose=row.purpose,
        case_number=row.case_number,
        actor=row.actor,
        peer_node_id=row.peer_node_id,
        status=row.status,
        result_count=row.result_count,
        elapsed_ms=row.elapsed_ms,
    )


def search(
    session: Session,
    case_number: str | None,
    since: datetime | None,
    until: datetime | None,
    before_id: int | None,
    limit: int,
) -> AuditPage:
    """Entries newest first (by id, which grows with time), one page; `before_id` continues
    after the last entry of the page before."""
    stmt = select(AuditEntry)
    if case_number is not None:
        stmt = stmt.where(AuditEntry.case_number == case_number)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    rows = list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        items=[entry_out(r) for r in rows], next_cursor=str(rows[-1].id) if more else None
    )
