"""The operators' dead-letter view under /api/v1/federation/deliveries: what could not reach a
peer (retries spent, or refused by it, with the reason), and a way to send it again."""

import base64
import binascii
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from federation.models import Delivery, DeliveryState, OutboxEvent, Peer
from federation.outbox import KICK_KEY
from hub.deps import PrincipalDep, SessionDep, require
from hub.errors import Invalid, problem_responses
from schemas.enums import Role
from schemas.federation import (
    DeliveryOut,
    DeliveryPage,
    DeliveryRetry,
    DeliveryRetryResult,
    DeliveryStateName,
)

ADMINS = frozenset({Role.ADMIN})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

deliveries_router = APIRouter(
    prefix="/federation/deliveries",
    tags=["federation"],
    responses=problem_responses(400, 401, 403, 422),
)


# A delivery is (outbox id, peer id) and one event goes to several peers in one transaction
# (same created_at): the cursor holds all three, so no row is skipped between pages.
def encode_cursor(created_at: datetime, outbox_id: uuid.UUID, peer_id: uuid.UUID) -> str:
    micros = (created_at - EPOCH) // timedelta(microseconds=1)
    raw = micros.to_bytes(8, "big", signed=True) + outbox_id.bytes + peer_id.bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, uuid.UUID, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        if len(raw) != 40:
            raise ValueError
        moment = EPOCH + timedelta(microseconds=int.from_bytes(raw[:8], "big", signed=True))
        return moment, uuid.UUID(bytes=raw[8:24]), uuid.UUID(bytes=raw[24:])
    except (binascii.Error, ValueError, OverflowError):
        raise Invalid(
            "cursor is not one this API returned; start again without it", "cursor"
        ) from None


def _out(d: Delivery, type_: str, subject: str | None, time: datetime, peer: str) -> DeliveryOut:
    return DeliveryOut(
        outbox_id=d.outbox_id,
        peer_id=d.peer_id,
        peer_name=peer,
        type=type_,
        subject=subject,
        time=time,
        state=DeliveryStateName(d.state.value),
        attempts=d.attempts,
        last_error=d.last_error,
        next_attempt_at=d.next_attempt_at,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
    )


def list_deliveries(
    session: Session,
    state: DeliveryState,
    peer_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> DeliveryPage:
    """Newest first."""
    order = (Delivery.created_at, Delivery.outbox_id, Delivery.peer_id)
    stmt = (
        select(
            Delivery,
            OutboxEvent.type,
            OutboxEvent.subject,
            OutboxEvent.time,
            Peer.name.label("peer_name"),
        )
        .join(OutboxEvent, OutboxEvent.id == Delivery.outbox_id)
        .join(Peer, Peer.id == Delivery.peer_id)
        .where(Delivery.state == state)
    )
    if peer_id is not None:
        stmt = stmt.where(Delivery.peer_id == peer_id)
    if cursor is not None:
        stmt = stmt.where(tuple_(*order) < tuple_(*decode_cursor(cursor)))
    stmt = stmt.order_by(*(c.desc() for c in order)).limit(limit + 1)
    rows = list(session.execute(stmt).all())
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].Delivery if rows else None
    next_cursor = (
        encode_cursor(last.created_at, last.outbox_id, last.peer_id) if more and last else None
    )
    return DeliveryPage(items=[_out(*r) for r in rows], next_cursor=next_cursor)


def retry_dead(session: Session, data: DeliveryRetry, now: datetime) -> DeliveryRetryResult:
    """Move the chosen dead deliveries back to pending, due now, attempts from zero. They are
    checked against the agreements again when sent. Flushes; the caller commits."""
    stmt = update(Delivery).where(Delivery.state == DeliveryState.DEAD)
    if data.peer_id is not None:
        stmt = stmt.where(Delivery.peer_id == data.peer_id)
    if data.outbox_ids is not None:
        stmt = stmt.where(Delivery.outbox_id.in_(data.outbox_ids))
    stmt = stmt.values(state=DeliveryState.PENDING, attempts=0, next_attempt_at=now).returning(
        Delivery.peer_id
    )
    moved = list(session.scalars(stmt))  # one peer id per delivery moved
    return DeliveryRetryResult(moved=len(moved), peers=sorted(set(moved)))


@deliveries_router.get("", response_model=DeliveryPage)
def get_deliveries(
    session: SessionDep,
    principal: PrincipalDep,
    state: DeliveryStateName = DeliveryStateName.DEAD,
    peer: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{54}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeliveryPage:
    """Deliveries in one state, newest first: by default the dead ones (retries spent, or
    refused by the peer; `last_error` says why)."""
    require(principal, ADMINS, "read federation deliveries")
    return list_deliveries(session, DeliveryState(state.value), peer, cursor, limit)


@deliveries_router.post("/retry", response_model=DeliveryRetryResult)
def retry(data: DeliveryRetry, session: SessionDep, principal: PrincipalDep) -> DeliveryRetryResult:
    """Send dead deliveries again (those of `peer_id`, or the `outbox_ids`, or all)."""
    require(principal, ADMINS, "retry federation deliveries")
    result = retry_dead(session, data, datetime.now(UTC))
    pending: set[uuid.UUID] = session.info.setdefault(KICK_KEY, set())
    pending.update(result.peers)  # the kicker queues their delivery after the commit
    session.commit()
    return result
