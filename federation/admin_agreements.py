"""Operators' agreements API under /api/v1/federation/agreements: propose, accept, suspend,
resume, revoke, read. Admins only: an agreement decides what leaves this node. Each change is
sent to the peer (a control event through the outbox) and takes effect here at once."""

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from federation import agreements as service
from federation.models import Agreement
from hub.auth.service import Principal
from hub.deps import PrincipalDep, SessionDep, require
from hub.errors import problem_responses
from schemas.enums import Role
from schemas.federation import AgreementAction, AgreementCreate, AgreementOut

log = logging.getLogger("c4hub.federation")

ADMINS = frozenset({Role.ADMIN})

agreements_router = APIRouter(
    prefix="/federation/agreements",
    tags=["federation"],
    responses=problem_responses(400, 401, 403, 404, 422),
)


@agreements_router.post(
    "", response_model=AgreementOut, status_code=201, responses=problem_responses(400, 503)
)
def propose(data: AgreementCreate, session: SessionDep, principal: PrincipalDep) -> AgreementOut:
    """Propose an agreement to a peer, accepted on this side. `scopes_out` is what this node
    sends, `scopes_in` what it takes; only events inside `area` (if given) flow, until
    `expires_at`. It takes effect when the peer's admin accepts it."""
    require(principal, ADMINS, "make agreements")
    now = datetime.now(UTC)
    row = service.propose(session, data, now)
    session.commit()
    log.info(
        "agreement %s proposed to peer %s by token %s", row.id, row.peer_id, principal.token_id
    )
    return service.agreement_out(session, row, now)


@agreements_router.get("", response_model=list[AgreementOut])
def list_agreements(
    session: SessionDep, principal: PrincipalDep, peer_id: uuid.UUID | None = None
) -> list[AgreementOut]:
    require(principal, ADMINS, "read agreements")
    now = datetime.now(UTC)
    return [service.agreement_out(session, r, now) for r in service.list_all(session, peer_id)]


@agreements_router.get("/{agreement_id:uuid}", response_model=AgreementOut)
def get_agreement(
    agreement_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> AgreementOut:
    require(principal, ADMINS, "read agreements")
    return service.agreement_out(session, service.get(session, agreement_id), datetime.now(UTC))


Action = Callable[[Session, uuid.UUID, datetime], Agreement]


def _act(
    action: Action,
    verb: str,
    agreement_id: uuid.UUID,
    data: AgreementAction | None,
    session: Session,
    principal: Principal,
) -> AgreementOut:
    require(principal, ADMINS, f"{verb} agreements")
    now = datetime.now(UTC)
    row = action(session, agreement_id, now)
    session.commit()
    reason = data.reason if data is not None else None
    log.info("agreement %s %s by token %s: %s", row.id, verb, principal.token_id, reason or "-")
    return service.agreement_out(session, row, now)


_CONFLICT = problem_responses(409, 503)


@agreements_router.post(
    "/{agreement_id:uuid}/accept", response_model=AgreementOut, responses=_CONFLICT
)
def accept(
    agreement_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    data: AgreementAction | None = None,
) -> AgreementOut:
    """Accept the peer's proposal: the agreement is active on both sides once the peer hears."""
    return _act(service.accept, "accept", agreement_id, data, session, principal)


@agreements_router.post(
    "/{agreement_id:uuid}/suspend", response_model=AgreementOut, responses=_CONFLICT
)
def suspend(
    agreement_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    data: AgreementAction | None = None,
) -> AgreementOut:
    """Stop what flows under it, at once; events not yet sent are withheld, never sent."""
    return _act(service.suspend, "suspend", agreement_id, data, session, principal)


@agreements_router.post(
    "/{agreement_id:uuid}/resume", response_model=AgreementOut, responses=_CONFLICT
)
def resume(
    agreement_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    data: AgreementAction | None = None,
) -> AgreementOut:
    """Lift this side's suspension (a suspension by the peer only the peer lifts)."""
    return _act(service.resume, "resume", agreement_id, data, session, principal)


@agreements_router.post(
    "/{agreement_id:uuid}/revoke", response_model=AgreementOut, responses=_CONFLICT
)
def revoke(
    agreement_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    data: AgreementAction | None = None,
) -> AgreementOut:
    """End the agreement for good, on both sides."""
    return _act(service.revoke, "revoke", agreement_id, data, session, principal)
