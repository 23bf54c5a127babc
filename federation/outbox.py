"""The transactional outbox: a federated event is written in the caller's transaction, with one
delivery row per peer whose active agreement lets it flow. Nothing else decides who gets what.

After the caller commits, `kick_after_commit` (installed by the app factory and the Celery app)
asks the delivery task to send at once; beat's sweep retries whatever is still due.
"""

import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime

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
    if not peers:
        return []
    outbox_id = event_id or uuid.uuid4()
    session.execute(
        insert(OutboxEvent).values(
            id=outbox_id,
            type=type_.value,
            subject=subject,
            time=time or now,
            data=data.model_dump(mode="json"),
            position=f"SRID=4326;{point_wkt(position)}" if position is not None else None,
        )
    )
    session.execute(
        insert(Delivery),
        [{"outbox_id": outbox_id, "peer_id": p, "state": DeliveryState.PENDING} for p in peers],
    )
    pending: set[uuid.UUID] = session.info.setdefault(KICK_KEY, set())
    pending.update(peers)
    return peers


def install_kicker(factory: sessionmaker[Session], send: Callable[[list[uuid.UUID]], None]) -> None:
    """After each commit of a session from `factory` that emitted events, call `send` with the
    peers to deliver to now. A rollback forgets them."""

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        peers = session.info.pop(KICK_KEY, None)
        if peers:
            send(sorted(peers))

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(KICK_KEY, None)
