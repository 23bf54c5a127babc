"""Ask a federated query: answer it locally and, at the same time, ask every peer whose active
agreement lets it give us the query's scope, each within what is left of the deadline; merge
the items (each tagged with the node that has it) and say how each peer fared.

A peer that has not answered by the deadline is marked `timeout` and not waited for: its thread
finishes on its own (the HTTP client's timeout bounds it). The asking is audited here, one
`asked` row for the local answer and one per peer; the request commits.
"""

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from federation.answers import MAX_ITEMS, answer, check_params
from federation.client import PeerCallError, PeerClient, PeerResponse, PeerTarget, peer_target
from federation.models import Agreement, Peer
from federation.node import local_node
from federation.policy import flows_clause
from hub.audit.service import record
from schemas.federation import (
    QUERY_SCOPE,
    AuditRole,
    FederatedQueryRequest,
    FederatedQueryResult,
    PeerAnswer,
    PeerAnswerStatus,
    PeerQuery,
    PeerQueryAnswer,
    QueryKind,
)

QUERY_PATH = "/federation/v1/queries"
MAX_PEERS_AT_ONCE = 16
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True)
class Reply:
    """What one node gave: its items, or why there are none."""

    status: PeerAnswerStatus
    items: list[dict[str, Any]]
    detail: str | None = None
    elapsed_ms: float = 0.0


# --- pure: reading a peer's reply, merging ----------------------------------------------------


def _problem_detail(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    detail = doc.get("detail") if isinstance(doc, dict) else None
    return str(detail)[:500] if detail is not None else None


def reply_of(response: PeerResponse, query_id: uuid.UUID) -> Reply:
    """A peer's (signature-checked) HTTP response as a Reply: 401/403 are refusals."""
    if response.status in (401, 403):
        why = _problem_detail(response.body) or f"HTTP {response.status}"
        return Reply(PeerAnswerStatus.REFUSED, [], why)
    if response.status != 200:
        why = _problem_detail(response.body) or ""
        return Reply(PeerAnswerStatus.ERROR, [], f"HTTP {response.status} {why}".strip())
    try:
        answer_ = PeerQueryAnswer.model_validate_json(response.body)
    except ValidationError:
        return Reply(PeerAnswerStatus.ERROR, [], "the answer is not a query answer")
    if answer_.query_id != query_id:
        return Reply(PeerAnswerStatus.ERROR, [], "the answer is for another query")
    # A peer answers at most MAX_ITEMS as this node does; more is not taken on trust.
    return Reply(PeerAnswerStatus.OK, answer_.items[:MAX_ITEMS])


_CALL_ERRORS = {
    "unreachable": PeerAnswerStatus.UNREACHABLE,
    "timeout": PeerAnswerStatus.TIMEOUT,
    "rejected": PeerAnswerStatus.REFUSED,
}


def reply_of_error(error: PeerCallError) -> Reply:
    status = _CALL_ERRORS.get(error.kind, PeerAnswerStatus.ERROR)
    return Reply(status, [], f"{error.kind}: {error.detail}"[:500])


def _moment(value: object) -> datetime:
    """A read's time for ordering; what a peer sent that is not a time sorts first."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return EARLIEST
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _distance(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        return float("inf")


def _order(kind: QueryKind) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if kind is QueryKind.PLATE_SIGHTINGS:
        return lambda item: (_moment(item.get("read_at")), str(item.get("read_id", "")))
    return lambda item: (_distance(item.get("distance_m")), str(item.get("camera_id", "")))


def merge(
    query_id: uuid.UUID,
    kind: QueryKind,
    local: tuple[uuid.UUID, str, Reply],
    peers: Sequence[tuple[uuid.UUID, str, Reply]],
) -> FederatedQueryResult:
    """All items, each tagged with the node that has it (sightings in time order, cameras
    nearest first), and every peer's status. Tags are what we know of the peer, not what it
    says of itself."""
    items = [
        {**item, "node_id": str(node_id), "node_name": name}
        for node_id, name, reply in (local, *peers)
        for item in reply.items
    ]
    items.sort(key=_order(kind))
    answers = [
        PeerAnswer(
            node_id=node_id,
            name=name,
            status=reply.status,
            count=len(reply.items),
            detail=reply.detail,
            elapsed_ms=reply.elapsed_ms,
        )
        for node_id, name, reply in peers
    ]
    return FederatedQueryResult(query_id=query_id, items=items, peers=answers)


# --- concurrency --------------------------------------------------------------------------------


def _timed(call: Callable[[float], Reply], budget_s: float) -> Reply:
    started = time.perf_counter()
    try:
        reply = call(budget_s)
    except Exception as exc:  # a peer's failure must not fail the whole query
        reply = Reply(PeerAnswerStatus.ERROR, [], f"{type(exc).__name__}: {exc}"[:500])
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return Reply(reply.status, reply.items, reply.detail, elapsed)


def fan_out(
    calls: Mapping[K, Callable[[float], Reply]],
    deadline_s: float,
    meanwhile: Callable[[], T],
) -> tuple[T, dict[K, Reply]]:
    """Run every call concurrently, each given the seconds left before the deadline, and
    `meanwhile` in this thread; calls unfinished at the deadline are `timeout` replies."""
    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=max(1, min(len(calls), MAX_PEERS_AT_ONCE)))
    try:
        futures: dict[K, Future[Reply]] = {
            key: pool.submit(_timed, call, deadline_s) for key, call in calls.items()
        }
        result = meanwhile()
        left = max(0.0, deadline_s - (time.perf_counter() - started))
        wait(futures.values(), timeout=left)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    late_ms = round(deadline_s * 1000, 1)
    replies = {
        key: future.result()
        if future.done() and not future.cancelled()
        else Reply(PeerAnswerStatus.TIMEOUT, [], f"no answer within {deadline_s:g} s", late_ms)
        for key, future in futures.items()
    }
    return result, replies


# --- asking -------------------------------------------------------------------------------------


def askable_peers(session: Session, kind: QueryKind, now: datetime) -> list[Peer]:
    """Active peers with an active agreement under which they give us the query's scope."""
    stmt = (
        select(Peer)
        .where(
            select(Agreement.id)
            .where(Agreement.peer_id == Peer.id, flows_clause(QUERY_SCOPE[kind], False, None, now))
            .exists()
        )
        .order_by(Peer.name, Peer.id)
    )
    return list(session.scalars(stmt))


def _asker(
    client: PeerClient, target: PeerTarget, body: bytes, query_id: uuid.UUID
) -> Callable[[float], Reply]:
    def call(budget_s: float) -> Reply:
        try:
            response = client.post(target, QUERY_PATH, body, timeout_s=budget_s)
        except PeerCallError as exc:
            return reply_of_error(exc)
        return reply_of(response, query_id)

    return call


def ask(
    session: Session,
    client: PeerClient,
    request: FederatedQueryRequest,
    actor: str,
    now: datetime | None = None,
) -> FederatedQueryResult:
    """Answer locally and ask the peers; audit both; flushes, the caller commits."""
    check_params(request.query)
    now = now or datetime.now(UTC)
    me = local_node(session)
    query = PeerQuery(
        query_id=uuid.uuid4(),
        query=request.query,
        purpose=request.purpose,
        case_number=request.case_number,
        deadline_s=request.deadline_s,
    )
    peers = {
        peer.id: peer_target(session, peer)
        for peer in askable_peers(session, query.query.kind, now)
    }
    body = query.model_dump_json(by_alias=True, exclude_none=True).encode()
    calls = {pid: _asker(client, target, body, query.query_id) for pid, target in peers.items()}

    def local() -> Reply:
        # Not through _timed: a failure of this node's own database fails the request.
        started = time.perf_counter()
        items = answer(session, query.query, None)
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        return Reply(PeerAnswerStatus.OK, items, None, elapsed)

    mine, replies = fan_out(calls, request.deadline_s, local)
    tagged = [(peers[pid].node_id, peers[pid].name, reply) for pid, reply in replies.items()]
    _audit_asked(session, query, actor, mine, tagged)
    return merge(query.query_id, query.query.kind, (me.node_id, me.name, mine), tagged)


def _audit_asked(
    session: Session,
    query: PeerQuery,
    actor: str,
    mine: Reply,
    peers: Sequence[tuple[uuid.UUID, str, Reply]],
) -> None:
    """One `asked` row for the local answer (no peer) and one per peer asked."""
    rows = [(None, mine), *((node_id, reply) for node_id, _name, reply in peers)]
    for node_id, reply in rows:
        record(
            session,
            AuditRole.ASKED,
            query,
            actor,
            node_id,
            reply.status,
            len(reply.items),
            reply.elapsed_ms,
        )
