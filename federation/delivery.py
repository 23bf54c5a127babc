"""Deliver the outbox to one peer: due deliveries, oldest first, in signed CloudEvents batches.

One deliverer per peer at a time: a batch runs in a transaction that holds the peer's row
(SELECT ... FOR UPDATE SKIP LOCKED); a second deliverer finds it locked and leaves. So order is
kept and a batch is never sent twice at once. Each event is checked against the agreements
again just before it is sent: one suspended, revoked or expired since the event was written
makes it `withheld`, never sent. The receiver applies each event once (source + id), so a
batch resent after a lost answer does no harm.
"""

import json
import logging
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from federation.backoff import Backoff, Breaker, BreakerState, Uniform
from federation.client import PeerCallError, PeerClient, PeerTarget, peer_target
from federation.inbox import Allowance, allowances, permits
from federation.models import Delivery, DeliveryState, OutboxEvent, Peer
from federation.node import local_node, signing_key
from federation.outbox import Position
from hub.db import session_scope
from schemas.federation import (
    CLOUDEVENTS_BATCH,
    EVENT_SCOPE,
    EventType,
    InboxResult,
    PeerState,
    node_source,
)

log = logging.getLogger("c4hub.federation")

INBOX_PATH = "/federation/v1/inbox"
# Peers refuse bodies over their C4HUB_MAX_BODY_BYTES (1 MiB by default): a batch stops
# growing at half that, and the rest goes in the next request.
MAX_BATCH_BYTES = 512 * 1024


@dataclass(frozen=True)
class DeliveryPolicy:
    batch: int = 500
    max_attempts: int = 20
    backoff: Backoff = field(default_factory=Backoff)
    breaker: Breaker = field(default_factory=Breaker)
    max_bytes: int = MAX_BATCH_BYTES


class Clients:
    """One PeerClient (one connection pool) per signing key: rebuilt when the key rotates."""

    def __init__(self, data_dir: Path, make: Callable[[Any], PeerClient]) -> None:
        self.data_dir = data_dir
        self.make = make
        self._client: PeerClient | None = None

    def get(self, session: Session) -> PeerClient:
        key = signing_key(session, self.data_dir)
        if self._client is None or self._client.key.key_id != key.key_id:
            if self._client is not None:
                self._client.close()
            self._client = self.make(key)
        return self._client


@dataclass
class DeliveryContext:
    sessions: sessionmaker[Session]
    clients: Clients
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    uniform: Uniform = field(default=random.uniform)


@dataclass
class DeliveryReport:
    """What one deliver_peer run did; `skipped` says why it sent nothing."""

    batches: int = 0
    delivered: int = 0
    dead: int = 0
    withheld: int = 0
    retried: int = 0
    skipped: str | None = None

    def add(self, other: "DeliveryReport") -> None:
        self.batches += other.batches
        self.delivered += other.delivered
        self.dead += other.dead
        self.withheld += other.withheld
        self.retried += other.retried
        self.skipped = other.skipped


@dataclass(frozen=True)
class _Batch:
    report: DeliveryReport
    full: bool  # hit the batch or byte limit: more may be due at once


def deliver_peer(ctx: DeliveryContext, peer_id: uuid.UUID) -> DeliveryReport:
    """Send everything due to the peer, one committed batch at a time, until a batch is not
    full (a backlog drains at once) or the peer fails."""
    total = DeliveryReport()
    while True:
        with session_scope(ctx.sessions) as session:
            batch = deliver_batch(session, ctx, peer_id)
        total.add(batch.report)
        if not batch.full or batch.report.retried:
            return total


# --- one batch -------------------------------------------------------------------------------

_DUE = (
    Delivery.outbox_id,
    Delivery.attempts,
    OutboxEvent.type,
    OutboxEvent.subject,
    OutboxEvent.time,
    OutboxEvent.data,
    func.ST_X(OutboxEvent.position).label("lon"),
    func.ST_Y(OutboxEvent.position).label("lat"),
)


def deliver_batch(session: Session, ctx: DeliveryContext, peer_id: uuid.UUID) -> _Batch:
    peer = session.scalar(select(Peer).where(Peer.id == peer_id).with_for_update(skip_locked=True))
    if peer is None:
        return _Batch(DeliveryReport(skipped="peer busy with another deliverer, or gone"), False)
    now = ctx.clock()
    breaker = BreakerState(peer.failures, peer.circuit_open_until)
    if not ctx.policy.breaker.allows(breaker, now):
        return _Batch(DeliveryReport(skipped="circuit open"), False)
    rows = session.execute(
        select(*_DUE)
        .join(OutboxEvent, OutboxEvent.id == Delivery.outbox_id)
        .where(
            Delivery.peer_id == peer.id,
            Delivery.state == DeliveryState.PENDING,
            Delivery.next_attempt_at <= now,
        )
        .order_by(Delivery.created_at, Delivery.outbox_id)  # ix_federation_deliveries_order
        .limit(ctx.policy.batch)
    ).all()
    if not rows:
        return _Batch(DeliveryReport(), False)
    report = DeliveryReport(batches=1)
    allowed, withheld = split_allowed(session, peer, rows, now)
    _set_state(session, peer.id, withheld, DeliveryState.WITHHELD, now, "no active agreement")
    report.withheld = len(withheld)
    source = node_source(local_node(session).node_id)
    body, sent = encode_batch(source, allowed, ctx.policy.max_bytes)
    full = len(rows) == ctx.policy.batch or len(sent) < len(allowed)
    if sent:
        _send(session, ctx, peer, sent, body, now, report)
    return _Batch(report, full)


def _send(
    session: Session,
    ctx: DeliveryContext,
    peer: Peer,
    sent: Sequence[Row[Any]],
    body: bytes,
    now: datetime,
    report: DeliveryReport,
) -> None:
    target = peer_target(session, peer)
    try:
        result = post_batch(ctx.clients.get(session), target, body)
    except PeerCallError as exc:
        _failed(session, ctx, peer, sent, now, f"{exc.kind}: {exc.detail}", report)
        return
    delivered = set(result.applied) | set(result.duplicates)
    ok = [r for r in sent if str(r.outbox_id) in delivered]
    refused = [r for r in sent if str(r.outbox_id) in result.refused]
    missing = [r for r in sent if str(r.outbox_id) not in delivered | set(result.refused)]
    _set_state(session, peer.id, ok, DeliveryState.DELIVERED, now, None)
    for row in refused:
        reason = f"refused by {peer.name}: {result.refused[str(row.outbox_id)]}"
        _set_state(session, peer.id, [row], DeliveryState.DEAD, now, reason)
        log.warning("event %s to %s is dead: %s", row.outbox_id, peer.name, reason)
    report.delivered += len(ok)
    report.dead += len(refused)
    peer.failures, peer.circuit_open_until = 0, None
    if missing:  # an answer that forgot events: try those again later
        _retry(session, ctx, peer.id, missing, now, "the peer's answer did not name it", report)


def post_batch(client: PeerClient, target: PeerTarget, body: bytes) -> InboxResult:
    """POST the batch; the peer's InboxResult, or PeerCallError for any failure."""
    response = client.post(target, INBOX_PATH, body, content_type=CLOUDEVENTS_BATCH)
    if not 200 <= response.status < 300:
        detail = response.body[:300].decode("utf-8", "replace")
        raise PeerCallError("rejected", f"HTTP {response.status}: {detail}", response.status)
    try:
        return InboxResult.model_validate_json(response.body)
    except ValidationError as exc:
        raise PeerCallError(
            "bad_response", f"not an InboxResult: {exc.errors()[0]['msg']}"
        ) from exc


def _failed(
    session: Session,
    ctx: DeliveryContext,
    peer: Peer,
    rows: Sequence[Row[Any]],
    now: datetime,
    error: str,
    report: DeliveryReport,
) -> None:
    state = ctx.policy.breaker.on_failure(BreakerState(peer.failures, peer.circuit_open_until), now)
    peer.failures, peer.circuit_open_until = state.failures, state.open_until
    log.warning("delivery to %s failed (%d in a row): %s", peer.name, state.failures, error)
    _retry(session, ctx, peer.id, rows, now, error, report)


def _retry(
    session: Session,
    ctx: DeliveryContext,
    peer_id: uuid.UUID,
    rows: Sequence[Row[Any]],
    now: datetime,
    error: str,
    report: DeliveryReport,
) -> None:
    """One more failed attempt each: a later try after a jittered backoff, or dead when the
    attempts are spent."""
    policy = ctx.policy
    updates: list[dict[str, Any]] = []
    for row in rows:
        attempts = row.attempts + 1
        dead = attempts >= policy.max_attempts
        updates.append(
            {
                "outbox_id": row.outbox_id,
                "peer_id": peer_id,
                "attempts": attempts,
                "state": DeliveryState.DEAD if dead else DeliveryState.PENDING,
                "next_attempt_at": policy.backoff.next_attempt(now, attempts, ctx.uniform),
                "last_error": error[:500],
            }
        )
        report.dead += dead
        report.retried += not dead
    session.execute(update(Delivery), updates)


def _set_state(
    session: Session,
    peer_id: uuid.UUID,
    rows: Sequence[Row[Any]],
    state: DeliveryState,
    now: datetime,
    error: str | None,
) -> None:
    if not rows:
        return
    values: dict[str, Any] = {"state": state, "last_error": error[:500] if error else None}
    if state is DeliveryState.DELIVERED:
        values["delivered_at"] = now
    session.execute(
        update(Delivery)
        .where(Delivery.peer_id == peer_id, Delivery.outbox_id.in_([r.outbox_id for r in rows]))
        .values(**values)
    )


# --- policy and encoding (no I/O beyond the one agreements query) ------------------------------


def split_allowed(
    session: Session, peer: Peer, rows: Sequence[Row[Any]], now: datetime
) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """The rows the peer's agreements allow now, and those they no longer do."""
    allowed_now = allowances(session, peer.id, True, now)
    allowed: list[Row[Any]] = []
    withheld: list[Row[Any]] = []
    for row in rows:
        position = (row.lon, row.lat) if row.lon is not None else None
        ok = event_allowed(peer.state, allowed_now, row.type, position)
        (allowed if ok else withheld).append(row)
    return allowed, withheld


def event_allowed(
    peer_state: PeerState,
    allowed: Sequence[Allowance],
    type_: str,
    position: Position | None,
) -> bool:
    """Control events go to any peer not revoked; others need an active agreement whose
    outbound scopes name the event's scope and whose area (if any) covers its position."""
    try:
        scope = EVENT_SCOPE[EventType(type_)]
    except ValueError:
        return False
    if scope is None:
        return peer_state is not PeerState.REVOKED
    return peer_state is PeerState.ACTIVE and permits(allowed, scope, position)


def cloud_event(source: str, row: Row[Any]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(row.outbox_id),
        "source": source,
        "type": row.type,
        "time": row.time.astimezone(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": row.data,
    }
    if row.subject is not None:
        event["subject"] = row.subject
    return event


def encode_batch(
    source: str, rows: Sequence[Row[Any]], max_bytes: int
) -> tuple[bytes, list[Row[Any]]]:
    """The JSON batch body and the rows in it: as many as fit in max_bytes (at least one)."""
    parts: list[bytes] = []
    sent: list[Row[Any]] = []
    size = 2
    for row in rows:
        part = json.dumps(cloud_event(source, row), separators=(",", ":")).encode()
        if sent and size + len(part) + 1 > max_bytes:
            break
        parts.append(part)
        sent.append(row)
        size += len(part) + 1
    return b"[" + b",".join(parts) + b"]", sent
