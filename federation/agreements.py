"""Sharing agreements: proposed by one admin, accepted by the other, suspended, resumed or
revoked by either; each change is a control event (org.c4hub.agreement.v1) to the peer, which
applies it at once. Both nodes hold the same agreement (same id), each from its own side.

What the peer may change is only the state it owns (its acceptance, its suspension, a
revocation): terms are fixed when proposed, so a peer cannot widen them by resending.
ACTIVATION_HOOKS run in the transaction where an agreement becomes active on this node (after
both acceptances, and again after a resume): they must be idempotent.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from geoalchemy2 import WKBElement
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from federation import outbox
from federation.inbox import InboxPeer, Refused, register
from federation.models import Agreement, Peer, Side
from federation.policy import state_of
from hub.errors import Conflict, Invalid, NotFound
from hub.registry.convert import multipolygon_of
from hub.registry.shapes import multipolygon_ewkt
from schemas.federation import (
    AgreementCreate,
    AgreementData,
    AgreementOut,
    AgreementState,
    AgreementTerms,
    CloudEvent,
    EventType,
    PeerState,
    Scope,
)

log = logging.getLogger("c4hub.federation")

ActivationHook = Callable[[Session, Agreement], None]

ACTIVATION_HOOKS: list[ActivationHook] = []


def _scopes(values: list[Scope]) -> list[str]:
    return sorted({s.value for s in values})


def _check_terms(terms: AgreementTerms, now: datetime) -> str | None:
    """The area as EWKT; Invalid when the terms cannot make an agreement."""
    if terms.expires_at <= now:
        raise Invalid("expires_at must be in the future", "expires_at")
    if not terms.scopes_out and not terms.scopes_in:
        raise Invalid("an agreement needs at least one scope, out or in", "scopes_out")
    if terms.area is None:
        return None
    try:
        return multipolygon_ewkt(terms.area)
    except ValueError as exc:
        raise Invalid(str(exc), "area") from None


def get(session: Session, agreement_id: uuid.UUID, *, lock: bool = False) -> Agreement:
    stmt = select(Agreement).where(Agreement.id == agreement_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        raise NotFound("Agreement", agreement_id)
    return row


def list_all(session: Session, peer_id: uuid.UUID | None = None) -> list[Agreement]:
    stmt = select(Agreement).order_by(Agreement.created_at, Agreement.id)
    if peer_id is not None:
        stmt = stmt.where(Agreement.peer_id == peer_id)
    return list(session.scalars(stmt))


def agreement_out(session: Session, row: Agreement, now: datetime) -> AgreementOut:
    peer_node_id = session.scalar(select(Peer.node_id).where(Peer.id == row.peer_id))
    assert peer_node_id is not None  # the foreign key guarantees it
    area = row.area if isinstance(row.area, WKBElement) else None
    return AgreementOut(
        id=row.id,
        peer_id=row.peer_id,
        peer_node_id=peer_node_id,
        proposed_by=row.proposed_by.value,
        state=state_of(row, now),
        local_accepted_at=row.local_accepted_at,
        peer_accepted_at=row.peer_accepted_at,
        suspended_by=row.suspended_by.value if row.suspended_by else None,
        scopes_out=[Scope(s) for s in row.scopes_out],
        scopes_in=[Scope(s) for s in row.scopes_in],
        area=multipolygon_of(area),
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def control_data(row: Agreement, now: datetime) -> AgreementData:
    """The agreement as this node tells its peer (this node is the sender)."""
    area = row.area if isinstance(row.area, WKBElement) else None
    return AgreementData(
        agreement_id=row.id,
        state=state_of(row, now),
        sender_accepted=row.local_accepted_at is not None,
        suspended_by_sender=row.suspended_by == Side.LOCAL,
        revoked=row.revoked_at is not None,
        scopes_out=[Scope(s) for s in row.scopes_out],
        scopes_in=[Scope(s) for s in row.scopes_in],
        area=multipolygon_of(area),
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        expires_at=row.expires_at,
    )


def _tell_peer(session: Session, row: Agreement, now: datetime) -> None:
    outbox.emit(
        session,
        EventType.AGREEMENT,
        control_data(row, now),
        subject=f"agreement/{row.id}",
        to_peers=[row.peer_id],
    )


def _run_hooks_if_activated(
    session: Session, row: Agreement, before: AgreementState, now: datetime
) -> None:
    if before is not AgreementState.ACTIVE and state_of(row, now) is AgreementState.ACTIVE:
        log.info("agreement %s with peer %s is active", row.id, row.peer_id)
        for hook in ACTIVATION_HOOKS:
            hook(session, row)


def _new_agreement(
    agreement_id: uuid.UUID,
    peer_id: uuid.UUID,
    proposed_by: Side,
    terms: AgreementTerms,
    area: str | None,
    now: datetime,
) -> Agreement:
    """A new row, accepted by neither side yet. The terms are as the proposer sent them, so a
    peer's proposal has its scope lists swapped: what the peer sends out, this node takes in."""
    by_peer = proposed_by is Side.PEER
    return Agreement(
        id=agreement_id,
        peer_id=peer_id,
        proposed_by=proposed_by,
        scopes_out=_scopes(terms.scopes_in if by_peer else terms.scopes_out),
        scopes_in=_scopes(terms.scopes_out if by_peer else terms.scopes_in),
        area=area,
        purpose=terms.purpose,
        legal_basis=terms.legal_basis,
        expires_at=terms.expires_at,
        created_at=now,
        updated_at=now,
    )


def propose(session: Session, data: AgreementCreate, now: datetime) -> Agreement:
    """Store the agreement accepted on this side and send it to the peer. Flushes."""
    peer = session.get(Peer, data.peer_id)
    if peer is None:
        raise NotFound("Peer", data.peer_id)
    if peer.state is not PeerState.ACTIVE:
        raise Conflict(f"Peer {peer.name} is {peer.state.value}; reactivate it first.")
    area = _check_terms(data, now)
    row = _new_agreement(uuid.uuid4(), peer.id, Side.LOCAL, data, area, now)
    row.local_accepted_at = now
    session.add(row)
    session.flush()
    session.refresh(row)  # the area back as a geometry, for the control event
    _tell_peer(session, row, now)
    return row


def _acting(session: Session, agreement_id: uuid.UUID) -> Agreement:
    row = get(session, agreement_id, lock=True)
    if row.revoked_at is not None:
        raise Conflict(f"Agreement {row.id} is revoked; revocation is final.")
    return row


def accept(session: Session, agreement_id: uuid.UUID, now: datetime) -> Agreement:
    row = _acting(session, agreement_id)
    before = state_of(row, now)
    if before is AgreementState.EXPIRED:
        raise Conflict(f"Agreement {row.id} expired at {row.expires_at.isoformat()}.")
    if row.local_accepted_at is not None:
        raise Conflict(f"Agreement {row.id} is already accepted on this side.")
    row.local_accepted_at = now
    return _changed(session, row, before, now)


def suspend(session: Session, agreement_id: uuid.UUID, now: datetime) -> Agreement:
    row = _acting(session, agreement_id)
    before = state_of(row, now)
    if row.suspended_by is not None:
        raise Conflict(f"Agreement {row.id} is already suspended by the {row.suspended_by}.")
    if before is AgreementState.EXPIRED:
        raise Conflict(f"Agreement {row.id} expired at {row.expires_at.isoformat()}.")
    row.suspended_by = Side.LOCAL
    return _changed(session, row, before, now)


def resume(session: Session, agreement_id: uuid.UUID, now: datetime) -> Agreement:
    row = _acting(session, agreement_id)
    before = state_of(row, now)
    if row.suspended_by is None:
        raise Conflict(f"Agreement {row.id} is not suspended.")
    if row.suspended_by is Side.PEER:
        raise Conflict(f"Agreement {row.id} was suspended by the peer; only the peer resumes it.")
    row.suspended_by = None
    return _changed(session, row, before, now)


def revoke(session: Session, agreement_id: uuid.UUID, now: datetime) -> Agreement:
    row = _acting(session, agreement_id)
    before = state_of(row, now)
    row.revoked_at = now
    row.revoked_by = Side.LOCAL
    return _changed(session, row, before, now)


def _changed(session: Session, row: Agreement, before: AgreementState, now: datetime) -> Agreement:
    row.updated_at = now
    session.flush()
    _run_hooks_if_activated(session, row, before, now)
    _tell_peer(session, row, now)
    return row


# --- the peer's control events ---------------------------------------------------------------


def mirror(peer: InboxPeer, data: AgreementData, now: datetime) -> Agreement:
    """A new agreement the peer proposed, stored from this side (the lists swapped)."""
    if data.revoked:
        raise Refused("a new agreement cannot arrive revoked")
    try:
        area = multipolygon_ewkt(data.area) if data.area is not None else None
    except ValueError as exc:
        raise Refused(f"area: {exc}") from None
    row = _new_agreement(data.agreement_id, peer.peer_id, Side.PEER, data, area, now)
    row.peer_accepted_at = now if data.sender_accepted else None
    row.suspended_by = Side.PEER if data.suspended_by_sender else None
    return row


def apply_peer_state(row: Agreement, data: AgreementData, now: datetime) -> None:
    """Take over the state the peer owns: its acceptance, its suspension, a revocation."""
    if data.sender_accepted and row.peer_accepted_at is None:
        row.peer_accepted_at = now
    if data.suspended_by_sender and row.suspended_by is None:
        row.suspended_by = Side.PEER
    elif not data.suspended_by_sender and row.suspended_by is Side.PEER:
        row.suspended_by = None
    if data.revoked:
        row.revoked_at = now
        row.revoked_by = Side.PEER
    row.updated_at = now


def apply_control(
    session: Session, peer: InboxPeer, event: CloudEvent, data: BaseModel, now: datetime
) -> None:
    """Apply the peer's view of an agreement (the inbox handler for AGREEMENT events)."""
    assert isinstance(data, AgreementData)
    row = session.scalar(
        select(Agreement).where(Agreement.id == data.agreement_id).with_for_update()
    )
    if row is None:
        session.add(mirror(peer, data, now))
        session.flush()
        return
    if row.peer_id != peer.peer_id:
        raise Refused("this agreement binds another peer")
    if row.revoked_at is not None:
        return  # final: a late event from before the revocation changes nothing
    before = state_of(row, now)
    apply_peer_state(row, data, now)
    session.flush()
    _run_hooks_if_activated(session, row, before, now)
    if row.suspended_by is Side.LOCAL and not data.suspended_by_sender and not data.revoked:
        # Both suspended at once and the peer resumed: say we still hold it suspended, so
        # the two sides agree on the state again.
        _tell_peer(session, row, now)


def _handler(session: Session, peer: InboxPeer, event: CloudEvent, data: BaseModel) -> None:
    apply_control(session, peer, event, data, datetime.now(UTC))


def install() -> None:
    """Register the agreement handler with the inbox (idempotent)."""
    register(EventType.AGREEMENT, _handler)
