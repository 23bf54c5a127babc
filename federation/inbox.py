"""The inbox: events a peer delivered, applied once each (idempotent on source + id).

An event already in federation_inbox is a duplicate (answered as such, applied once). A new
one must come from the node that signed the request and be let in by an active agreement
with it (scope in scopes_in, area covers its position); it is then recorded (insert ... on
conflict do nothing, so a concurrent resend stays a duplicate) and handed to the handler
registered for its type, inside a savepoint: a handler that fails refuses that one event and
leaves nothing of it. An event type without a handler is only kept in federation_inbox; those
are recorded together, so a batch costs a few statements, not a few per event.
"""

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
from geoalchemy2.shape import to_shape
from pydantic import BaseModel, ValidationError
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from federation.models import Agreement, InboxEvent, Peer
from federation.outbox import Position, point_wkt
from federation.policy import active_clause
from hub.errors import ProblemError
from schemas.federation import (
    EVENT_DATA,
    EVENT_SCOPE,
    CloudEvent,
    EventType,
    InboxResult,
    PeerState,
    Scope,
    node_source,
)

log = logging.getLogger("c4hub.federation")


@dataclass(frozen=True)
class InboxPeer:
    """Who delivered the batch (from the verified signature)."""

    peer_id: uuid.UUID
    node_id: uuid.UUID
    name: str


Handler = Callable[[Session, InboxPeer, CloudEvent, BaseModel], None]

HANDLERS: dict[EventType, Handler] = {}


def register(type_: EventType, handler: Handler) -> None:
    """Install the handler for an event type (the last registration wins, so re-wiring the
    same handler is harmless)."""
    HANDLERS[type_] = handler


class Refused(Exception):
    """An event the inbox will not apply; the message goes back to the sender."""


def _position(data: BaseModel) -> Position | None:
    """The event's place, when its data model has one (a GeoJSON Point `position`)."""
    point = getattr(data, "position", None)
    coords = getattr(point, "coordinates", None)
    if coords is None:
        return None
    return (float(coords[0]), float(coords[1]))


def parse_data(event: CloudEvent) -> BaseModel:
    model = EVENT_DATA.get(event.type)
    if model is None:
        raise Refused(f"no data model for type {event.type.value}")
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "data"
        raise Refused(f"invalid data: {where}: {first['msg']}") from None


@dataclass(frozen=True)
class Allowance:
    """What one active agreement lets flow one way: its scopes and its area (None: anywhere)."""

    scopes: frozenset[str]
    area: BaseGeometry | None


def allowances(
    session: Session, peer_id: uuid.UUID, outbound: bool, now: datetime
) -> list[Allowance]:
    """The peer's active agreements, read once per batch (an event is then checked in memory,
    with the same covers rule PostGIS applies in federation.policy.flows_clause)."""
    scopes = Agreement.scopes_out if outbound else Agreement.scopes_in
    rows = session.execute(
        select(scopes, Agreement.area)
        .join(Peer, Peer.id == Agreement.peer_id)
        .where(Agreement.peer_id == peer_id, Peer.state == PeerState.ACTIVE, active_clause(now))
    )
    found = []
    for names, area in rows:
        shape = to_shape(area) if area is not None else None
        if shape is not None:
            shapely.prepare(shape)  # many points are tested against it
        found.append(Allowance(frozenset(names), shape))
    return found


def permits(allowed: Sequence[Allowance], scope: Scope, position: Position | None) -> bool:
    """An event of `scope` at `position` (lon, lat; None: it has no place) flows under one of
    them. A point intersects an area exactly when the area covers it (boundary included)."""
    for allowance in allowed:
        if scope.value not in allowance.scopes:
            continue
        if allowance.area is None or position is None:
            return True
        if shapely.intersects_xy(allowance.area, position[0], position[1]):
            return True
    return False


def _row(peer: InboxPeer, event: CloudEvent, data: BaseModel) -> dict[str, Any]:
    position = _position(data)
    return {
        "source": event.source,
        "event_id": event.id,
        "peer_id": peer.peer_id,
        "type": event.type.value,
        "time": event.time,
        "data": event.data,
        "position": f"SRID=4326;{point_wkt(position)}" if position is not None else None,
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert inbox rows; the ids that were new (the others arrived meanwhile)."""
    if not rows:
        return set()
    stmt = (
        insert(InboxEvent)
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
        .returning(InboxEvent.event_id)
    )
    # Parameters as a list: one statement compiled once, sent in pages (insertmanyvalues).
    return set(session.scalars(stmt, rows))


def _apply_handled(
    session: Session, peer: InboxPeer, event: CloudEvent, data: BaseModel, handler: Handler
) -> bool:
    """Record and handle one event in a savepoint: True if new, False if a duplicate,
    Refused if its handler failed (the savepoint rolls back: nothing half-applied)."""
    try:
        with session.begin_nested():
            if not _insert(session, [_row(peer, event, data)]):
                return False
            handler(session, peer, event, data)
            session.flush()
    except Refused:
        raise
    except ProblemError as exc:
        raise Refused(exc.detail or exc.title) from None
    except Exception as exc:
        # The handler's own failure: refuse this event only; the sender's operator sees the
        # reason in its dead-letter view, ours in the log.
        log.exception("inbox handler for %s failed on event %s", event.type.value, event.id)
        raise Refused(f"handler failed: {type(exc).__name__}") from None
    return True


@dataclass
class _Outcome:
    applied: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _screen(
    session: Session, peer: InboxPeer, events: list[CloudEvent], out: _Outcome
) -> list[tuple[CloudEvent, BaseModel]]:
    """The new events, in order: from the signer, valid, not seen before. Duplicates are
    found before any agreement is consulted, so an event applied before a suspension is still
    answered as a duplicate (and the sender stops resending it)."""
    expected = node_source(peer.node_id)
    ids = [e.id for e in events if e.source == expected]
    seen = set(
        session.scalars(
            select(InboxEvent.event_id).where(
                InboxEvent.source == expected, InboxEvent.event_id.in_(ids)
            )
        )
    )
    fresh: list[tuple[CloudEvent, BaseModel]] = []
    for event in events:
        try:
            if event.source != expected:
                raise Refused(f"source must be {expected}, the node that signed the request")
            data = parse_data(event)
        except Refused as exc:
            out.refused[event.id] = str(exc)[:500]
            continue
        if event.id in seen:
            out.duplicates.append(event.id)
            continue
        seen.add(event.id)
        fresh.append((event, data))
    return fresh


def receive(
    session: Session, peer: InboxPeer, events: list[CloudEvent], now: datetime
) -> InboxResult:
    """Apply a batch, each event once, in order. Events without a handler are recorded
    together in one statement; each handled event in a savepoint of its own. Flushes; the
    caller commits."""
    out = _Outcome()
    plain: list[tuple[CloudEvent, BaseModel]] = []

    def record_plain() -> None:
        new = _insert(session, [_row(peer, e, d) for e, d in plain])
        for event, _ in plain:
            (out.applied if event.id in new else out.duplicates).append(event.id)
        plain.clear()

    allowed = allowances(session, peer.peer_id, False, now)
    for event, data in _screen(session, peer, events, out):
        scope = EVENT_SCOPE[event.type]
        # Control events (agreements) always pass between the two peers they bind.
        if scope is not None and not permits(allowed, scope, _position(data)):
            out.refused[event.id] = f"no active agreement lets {scope.value} in from this node here"
            continue
        handler = HANDLERS.get(event.type)
        if handler is None:
            plain.append((event, data))
            continue
        record_plain()  # keep the batch's order: earlier events first
        try:
            new = _apply_handled(session, peer, event, data, handler)
        except Refused as exc:
            out.refused[event.id] = str(exc)[:500]
            continue
        (out.applied if new else out.duplicates).append(event.id)
        if event.type is EventType.AGREEMENT:  # what the rest of the batch may bring changed
            allowed = allowances(session, peer.peer_id, False, now)
    record_plain()
    return InboxResult(applied=out.applied, duplicates=out.duplicates, refused=out.refused)


def parse_batch(raw: Any) -> tuple[list[CloudEvent], dict[str, str]]:
    """Events from a decoded batch body; malformed ones are refused by id where it has one."""
    if not isinstance(raw, list):
        raise ValueError("a CloudEvents batch is a JSON array of events")
    events: list[CloudEvent] = []
    refused: dict[str, str] = {}
    for index, item in enumerate(raw):
        try:
            events.append(CloudEvent.model_validate(item))
        except ValidationError as exc:
            ident = item.get("id") if isinstance(item, dict) else None
            key = ident if isinstance(ident, str) and ident else f"#{index}"
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "event"
            refused[key[:100]] = f"invalid event: {where}: {first['msg']}"
    return events, refused
