"""Hotlists across nodes: entries issued here are published to the peers whose agreement has
`hotlists` out (created, and revoked when deleted); entries peers publish are kept here with
their issuer's node and id, changed only by that issuer.

Expiry needs no message: `valid_until` travels with the entry and matching ignores expired
entries. A national list of a million rows is published with one INSERT ... SELECT into the
outbox and its deliveries, not a million emit() calls.
"""

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from federation import outbox
from federation.inbox import InboxPeer, Refused
from federation.models import Agreement, NodeIdentity
from hub.hotlists.matching import clean_plate, confusion_key
from hub.hotlists.models import HotlistEntry
from schemas.federation import (
    CloudEvent,
    EventType,
    HotlistEntryData,
    HotlistEntryRevokedData,
    Scope,
)

SUBJECT = "hotlist:"


def node_name(session: Session) -> str | None:
    """This node's name, the default issuing agency; None before `c4hub init`."""
    return session.scalar(select(NodeIdentity.name))


def entry_data(row: HotlistEntry, agency: str) -> HotlistEntryData:
    return HotlistEntryData(
        entry_id=row.id,
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
        issuing_agency=row.issuing_agency or agency,
    )


def publish_entry(session: Session, row: HotlistEntry) -> list[uuid.UUID]:
    """Emit a local entry to the peers whose agreement has hotlists out; federated entries
    are never re-published (their issuer publishes them). The peers it goes to."""
    if row.origin_node_id is not None:
        return []
    agency = row.issuing_agency or node_name(session) or "unknown"
    return outbox.emit(
        session,
        EventType.HOTLIST_ENTRY,
        entry_data(row, agency),
        subject=f"{SUBJECT}{row.id}",
    )


def publish_revocation(session: Session, entry_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    data = HotlistEntryRevokedData(entry_id=entry_id, revoked_at=now)
    return outbox.emit(
        session, EventType.HOTLIST_ENTRY_REVOKED, data, subject=f"{SUBJECT}{entry_id}"
    )


# --- bulk: imports and backfill ----------------------------------------------------------

# One statement writes an outbox event per selected entry and a delivery per peer. The JSON
# is HotlistEntryData's, built by PostgreSQL (timestamps as ISO 8601 with their offset).
# Deliveries go out in created_at order; clock_timestamp() puts these after everything else
# the transaction emitted (now(), its start): in the transaction that activates an agreement,
# after the agreement's own control event, which the peer must apply first to let them in.
_BULK_ENTRIES = """
WITH ev AS (
  INSERT INTO federation_outbox (id, type, subject, time, data)
  SELECT gen_random_uuid(), :type, :subject || e.id, :now, jsonb_build_object(
    'entry_id', e.id, 'plate', e.plate, 'kind', e.kind, 'category', e.category,
    'reason', e.reason, 'legal_basis', e.legal_basis, 'priority', e.priority,
    'valid_from', e.valid_from, 'valid_until', e.valid_until, 'source', e.source,
    'tolerance', e.tolerance, 'issuing_agency', coalesce(e.issuing_agency, :agency))
  FROM hotlist_entries e
  WHERE {where}
  RETURNING id)
INSERT INTO federation_deliveries (outbox_id, peer_id, state, created_at)
SELECT ev.id, p.peer_id, 'pending', clock_timestamp()
FROM ev CROSS JOIN unnest(CAST(:peers AS uuid[])) AS p(peer_id)
"""

_BULK_REVOKED = """
WITH ev AS (
  INSERT INTO federation_outbox (id, type, subject, time, data)
  SELECT gen_random_uuid(), :type, :subject || e.id, :now,
    jsonb_build_object('entry_id', e.id, 'revoked_at', :now)
  FROM hotlist_entries e
  WHERE {where}
  RETURNING id)
INSERT INTO federation_deliveries (outbox_id, peer_id, state, created_at)
SELECT ev.id, p.peer_id, 'pending', clock_timestamp()
FROM ev CROSS JOIN unnest(CAST(:peers AS uuid[])) AS p(peer_id)
"""

# Local entries still valid at :now (expired ones need no message).
_LOCAL_VALID = "e.origin_node_id IS NULL AND (e.valid_until IS NULL OR e.valid_until > :now)"


def _bulk(
    session: Session,
    template: str,
    type_: EventType,
    where: str,
    params: dict[str, object],
    peers: list[uuid.UUID],
    now: datetime,
) -> int:
    """Deliveries written (events x peers). Peers get a kick after the caller commits."""
    if not peers:
        return 0
    values = {
        **params,
        "type": type_.value,
        "subject": SUBJECT,
        "now": now,
        "agency": node_name(session) or "unknown",
        "peers": peers,
    }
    result = session.execute(text(template.format(where=where)), values)
    pending: set[uuid.UUID] = session.info.setdefault(outbox.KICK_KEY, set())
    pending.update(peers)
    return int(getattr(result, "rowcount", 0) or 0)


def hotlist_peers(session: Session, now: datetime) -> list[uuid.UUID]:
    """Peers an agreement lets hotlist entries go to now."""
    return outbox.recipients(session, EventType.HOTLIST_ENTRY, None, None, now)


def publish_imported(session: Session, source: str, now: datetime) -> int:
    """Publish the entries of `source` this transaction imported (their created_at is the
    transaction's start, now()): one event each per peer; the deliveries written."""
    where = f"{_LOCAL_VALID} AND e.source = :source AND e.created_at = now()"
    peers = hotlist_peers(session, now)
    params: dict[str, object] = {"source": source}
    return _bulk(session, _BULK_ENTRIES, EventType.HOTLIST_ENTRY, where, params, peers, now)


def revoke_source(session: Session, source: str, now: datetime) -> int:
    """Before an import replaces a source's local entries: a revocation of each to every
    peer; the deliveries written."""
    where = "e.origin_node_id IS NULL AND e.source = :source"
    peers = hotlist_peers(session, now)
    params: dict[str, object] = {"source": source}
    return _bulk(session, _BULK_REVOKED, EventType.HOTLIST_ENTRY_REVOKED, where, params, peers, now)


def backfill(session: Session, agreement: Agreement) -> None:
    """ACTIVATION_HOOKS: a peer whose agreement just became active with hotlists out gets
    every local entry valid now. Running it again (a resume) resends them; the peer's
    handler replaces what it holds, so that is harmless."""
    if Scope.HOTLISTS.value not in agreement.scopes_out:
        return
    session.flush()  # the agreement's new state, for the policy query
    now = datetime.now(UTC)
    peers = outbox.recipients(session, EventType.HOTLIST_ENTRY, None, [agreement.peer_id], now)
    _bulk(session, _BULK_ENTRIES, EventType.HOTLIST_ENTRY, _LOCAL_VALID, {}, peers, now)


# --- inbox handlers --------------------------------------------------------------------------


def on_entry(session: Session, peer: InboxPeer, event: CloudEvent, data: BaseModel) -> None:
    """A peer published (or updated) an entry it issued: insert or replace our copy, unless
    we already hold a newer version of it."""
    assert isinstance(data, HotlistEntryData)
    if data.kind is not data.category.kind:
        raise Refused(f"category {data.category.value} is not on the {data.kind.value} list")
    try:
        plate = clean_plate(data.plate)
    except ValueError as exc:
        raise Refused(f"plate: {exc}") from None
    values = {
        "plate": plate,
        "key": confusion_key(plate),
        "kind": data.kind,
        "category": data.category,
        "reason": data.reason[:500],
        "legal_basis": data.legal_basis[:500],
        "priority": data.priority,
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "source": data.source[:100],
        "tolerance": data.tolerance,
        "issuing_agency": data.issuing_agency[:200],
        "origin_updated_at": event.time,
    }
    stmt = insert(HotlistEntry).values(
        id=uuid.uuid4(), origin_node_id=peer.node_id, origin_entry_id=data.entry_id, **values
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["origin_node_id", "origin_entry_id"],
        index_where=text("origin_node_id IS NOT NULL"),
        set_=values,
        where=HotlistEntry.origin_updated_at <= event.time,
    )
    session.execute(stmt)


def on_revoked(session: Session, peer: InboxPeer, event: CloudEvent, data: BaseModel) -> None:
    """The issuer revoked an entry: drop our copy (the alerts it raised stay)."""
    assert isinstance(data, HotlistEntryRevokedData)
    session.execute(
        delete(HotlistEntry).where(
            HotlistEntry.origin_node_id == peer.node_id,
            HotlistEntry.origin_entry_id == data.entry_id,
        )
    )
