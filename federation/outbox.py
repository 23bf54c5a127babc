"""The transactional outbox: a federated event is written in the caller's transaction, with one
delivery row per peer whose active agreement lets it flow. Nothing else decides who gets what.

After the caller commits, `kick_after_commit` (installed by the app factory and the Celery app)
asks the delivery task to send at once; beat's sweep retries whatever is still due.
"""

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, sessionmaker

from federation.models import Agreement, Delivery, DeliveryState, OutboxEvent, Peer
from federation.policy import flows_clause
from schemas.federation import EVENT_SCOPE, EventType

KICK_KEY = "federation.kick"  # session.info: peer ids with new deliveries, sent after commit

Position = tuple[float, float]  # lon, lat (EPSG:4326)


def point_wkt(position: Position) -> str:
    return f"POINT({position[0]!r} {position[1]!r})"


def recipients(
    session: Session,
    type_: EventType,
    position: Position | None,
    to_peers: Collection[uuid.UUID] | None,
    now: datetime,
) -> list[uuid.UUID]:
    """Peers an event may go to: for control events exactly `to_peers`; otherwise the peers
    with an active agreement whose outbound scopes and area allow it, narrowed to `to_peers`
    when the event is addressed."""
    scope = EVENT_SCOPE[type_]
    if scope is None:
        return sorted(set(to_peers or ()))
    wkt = point_wkt(position) if position is not None else None
    stmt = (
        select(Peer.id)
        .join(Agreement, Agreement.peer_id == Peer.id)
        .where(flows_clause(scope, True, wkt, now))
        .distinct()
    )
    if to_peers is not None:
        if not to_peers:
            return []
        stmt = stmt.where(Peer.id.in_(list(to_peers)))
    return sorted(session.scalars(stmt))


@dataclass(frozen=True)
class Located:
    """One event of a batch for emit_many: its data, where it happened, its id and time."""

    data: BaseModel
    position: Position
    event_id: uuid.UUID
    time: datetime
    subject: str | None = None


def emit(
    session: Session,
    type_: EventType,
    data: BaseModel,
    *,
    subject: str | None = None,
    position: Position | None = None,
    to_peers: Collection[uuid.UUID] | None = None,
    event_id: uuid.UUID | None = None,
    time: datetime | None = None,
) -> list[uuid.UUID]:
    """Write the event and its deliveries in the caller's transaction; the peers it goes to.

    An event no agreement lets out is not written at all: nothing outside an agreement is
    kept for peers. Flushes; the caller commits.
    """
    now = datetime.now(UTC)
    peers = recipients(session, type_, position, to_peers, now)
    if peers:
        row = _outbox_row(type_, data, event_id or uuid.uuid4(), time or now, subject, position)
        _write(session, [(row, peers)])
    return peers


def emit_many(session: Session, type_: EventType, events: Sequence[Located]) -> int:
    """emit() for a batch of located events (camera events, say): the agreements are asked
    once per place, and rows go in with one statement per table. How many deliveries."""
    now = datetime.now(UTC)
    by_place: dict[Position, list[uuid.UUID]] = {}
    written: list[tuple[dict[str, Any], list[uuid.UUID]]] = []
    for item in events:
        if item.position not in by_place:
            by_place[item.position] = recipients(session, type_, item.position, None, now)
        peers = by_place[item.position]
        if peers:
            row = _outbox_row(
                type_, item.data, item.event_id, item.time, item.subject, item.position
            )
            written.append((row, peers))
    _write(session, written)
    return sum(len(peers) for _, peers in written)


def _outbox_row(
    type_: EventType,
    data: BaseModel,
    event_id: uuid.UUID,
    time: datetime,
    subject: str | None,
    position: Position | None,
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": type_.value,
        "subject": subject,
        "time": time,
        "data": data.model_dump(mode="json"),
        "position": f"SRID=4326;{point_wkt(position)}" if position is not None else None,
    }


def _write(session: Session, written: list[tuple[dict[str, Any], list[uuid.UUID]]]) -> None:
    if not written:
        return
    session.execute(insert(OutboxEvent), [row for row, _ in written])
    deliveries = [
        {"outbox_id": row["id"], "peer_id": p, "state": DeliveryState.PENDING}
        for row, peers in written
        for p in peers
    ]
    session.execute(insert(Delivery), deliveries)
    pending: set[uuid.UUID] = session.info.setdefault(KICK_KEY, set())
    pending.update(p for _, peers in written for p in peers)


def install_kicker(
    factory: "sessionmaker[Session] | type[Session]", send: Callable[[list[uuid.UUID]], None]
) -> None:
    """After each commit of a session from `factory` (a sessionmaker, or the Session class for
    every session of the process) that emitted events, call `send` with the peers to deliver
    to now. A rollback forgets them."""

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        peers = session.info.pop(KICK_KEY, None)
        if peers:
            send(sorted(peers))

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(KICK_KEY, None)
