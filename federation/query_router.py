"""Federated queries over HTTP: operators ask (POST /api/v1/federation/queries), peers ask us
(POST /federation/v1/queries, signed both ways). Both sides are written to the audit log."""

from datetime import UTC, datetime

import psycopg.errors
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from federation.answers import answer_peer
from federation.client import client_for
from federation.inbound import SignedCall, SignedCallDep, signed_json, signed_problem
from federation.queries import ask
from hub.audit.service import record
from hub.deps import PrincipalDep, SessionDep, SettingsDep, require
from hub.errors import Forbidden, Invalid, ProblemError, problem_responses
from schemas.enums import Role
from schemas.federation import (
    AuditRole,
    FederatedQueryRequest,
    FederatedQueryResult,
    PeerAnswerStatus,
    PeerQuery,
    PeerQueryAnswer,
)

ASKERS = frozenset({Role.ADMIN, Role.OPERATOR})

queries_router = APIRouter(
    prefix="/federation", tags=["federation"], responses=problem_responses(400, 401, 403, 422, 503)
)
peer_queries_router = APIRouter(prefix="/federation/v1", tags=["federation"])


@queries_router.post("/queries", response_model=FederatedQueryResult)
def federated_query(
    data: FederatedQueryRequest,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> FederatedQueryResult:
    """Ask this node and every peer whose agreement lets it give us the query's scope, each
    within `deadline_s`; the merged items, and how each peer answered (ok, timeout, refused,
    unreachable, error). Needs a purpose and a case number: both are audited here and at
    every peer asked."""
    require(principal, ASKERS, "run federated queries")
    actor = f"token {principal.token_id} ({principal.role.value})"
    with client_for(session, settings) as client:
        result = ask(session, client, data, actor)
    session.commit()
    return result


def _parse(call: SignedCall) -> PeerQuery:
    try:
        return PeerQuery.model_validate_json(call.body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise Invalid(f"{where}: {first['msg']}", where) from None


def bound_to_deadline(session: Session, deadline_s: float) -> None:
    """The asker stops waiting at its deadline, so our database stops working on it too."""
    millis = str(max(1, int(deadline_s * 1000)))
    session.execute(select(func.set_config("statement_timeout", millis, True)))


class DeadlinePassed(ProblemError):
    def __init__(self) -> None:
        super().__init__(503, "deadline", "Deadline passed", "The query ran past its deadline.")


def _audit_timeout(session: Session, call: SignedCall, query: PeerQuery) -> None:
    millis = query.deadline_s * 1000
    peer = call.node_id
    record(session, AuditRole.ANSWERED, query, str(peer), peer, PeerAnswerStatus.TIMEOUT, 0, millis)
    session.commit()


@peer_queries_router.post("/queries", responses=problem_responses(401, 403, 422, 503))
def answer_query(request: Request, call: SignedCallDep, session: SessionDep) -> Response:
    """A peer's query, answered within the agreement that gives it the scope (403 without
    one) and the agreement's area; signed, and audited with the peer's purpose and case."""
    try:
        query = _parse(call)
    except ProblemError as exc:
        return signed_problem(request, call, exc)
    try:
        bound_to_deadline(session, query.deadline_s)
        outcome = answer_peer(session, call.peer_id, call.node_id, query, datetime.now(UTC))
    except ProblemError as exc:
        session.rollback()
        return signed_problem(request, call, exc)
    except OperationalError as exc:
        if not isinstance(exc.orig, psycopg.errors.QueryCanceled):
            raise
        session.rollback()
        _audit_timeout(session, call, query)
        return signed_problem(request, call, DeadlinePassed())
    session.commit()
    if not outcome.allowed:
        return signed_problem(request, call, Forbidden(outcome.detail or "refused"))
    return signed_json(request, call, PeerQueryAnswer(query_id=query.query_id, items=outcome.items))
