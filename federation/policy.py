"""What an agreement allows: its state from acceptances, suspension, revocation and expiry, and
the SQL filter that picks the agreements that let an event flow. Pure (builds expressions only).

Both the Python rule (agreement_state) and its SQL form (active_clause) live here, side by side,
so they cannot drift apart; a test checks they agree on every combination.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.sql.elements import literal

from federation.models import Agreement, Peer
from schemas.federation import AgreementState, PeerState, Scope


@dataclass(frozen=True)
class AgreementFacts:
    local_accepted: bool
    peer_accepted: bool
    suspended: bool
    revoked: bool
    expires_at: datetime


def agreement_state(facts: AgreementFacts, now: datetime) -> AgreementState:
    if facts.revoked:
        return AgreementState.REVOKED
    if facts.expires_at <= now:
        return AgreementState.EXPIRED
    if not (facts.local_accepted and facts.peer_accepted):
        return AgreementState.PROPOSED
    if facts.suspended:
        return AgreementState.SUSPENDED
    return AgreementState.ACTIVE


def facts_of(row: Agreement) -> AgreementFacts:
    return AgreementFacts(
        local_accepted=row.local_accepted_at is not None,
        peer_accepted=row.peer_accepted_at is not None,
        suspended=row.suspended_by is not None,
        revoked=row.revoked_at is not None,
        expires_at=row.expires_at,
    )


def state_of(row: Agreement, now: datetime) -> AgreementState:
    return agreement_state(facts_of(row), now)


def active_clause(now: datetime) -> ColumnElement[bool]:
    """SQL for agreement_state(...) == ACTIVE, over the `agreements` table."""
    return and_(
        Agreement.revoked_at.is_(None),
        Agreement.expires_at > now,
        Agreement.local_accepted_at.is_not(None),
        Agreement.peer_accepted_at.is_not(None),
        Agreement.suspended_by.is_(None),
    )


def flows_clause(
    scope: Scope, outbound: bool, position_wkt: str | None, now: datetime
) -> ColumnElement[bool]:
    """Agreements (joined with their peers) that let an event of `scope` located at
    `position_wkt` (EPSG:4326 POINT WKT, or None for events without a place) flow out to the
    peer (outbound) or in from it."""
    scopes = Agreement.scopes_out if outbound else Agreement.scopes_in
    clause = and_(
        active_clause(now),
        Peer.state == PeerState.ACTIVE,
        literal(scope.value).op("=")(func.any(scopes)),
    )
    if position_wkt is not None:
        point = func.ST_GeomFromText(position_wkt, 4326)
        clause = and_(clause, or_(Agreement.area.is_(None), func.ST_Covers(Agreement.area, point)))
    return clause
