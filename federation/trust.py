"""PostgreSQL-backed trust for signature checks: whose key is it, and was this nonce seen.

A key id resolves only to a key of a peer in state `active`, within the key's validity; a
key of a suspended or revoked peer is remembered on the resolver (`inactive`) so the caller
can answer 403 instead of 401. The replay cache is the federation_nonces table, so it
survives restarts and is shared by every process of the node.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from federation.identity import decode_public_key
from federation.models import Nonce, Peer, PeerKey
from schemas.federation import PeerState


@dataclass(frozen=True)
class KeyOwner:
    peer_id: uuid.UUID
    node_id: uuid.UUID
    name: str
    state: PeerState


class PgKeyResolver:
    """federation.signing.KeyResolver over peer_keys; remembers whose key it resolved."""

    def __init__(self, session: Session, now: datetime, peer_id: uuid.UUID | None = None) -> None:
        self.session = session
        self.now = now
        self.peer_id = peer_id  # when set, only that peer's keys resolve
        self.owner: KeyOwner | None = None  # the active peer the last resolved key belongs to
        self.inactive: KeyOwner | None = None  # set when the key's peer is not active

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        stmt = (
            select(PeerKey.public_key, Peer.id, Peer.node_id, Peer.name, Peer.state)
            .join(Peer, Peer.id == PeerKey.peer_id)
            .where(
                PeerKey.key_id == key_id,
                # No valid_from check: a published next key is trusted before it signs, and
                # the peers' clocks need not agree on when it was made.
                or_(PeerKey.valid_until.is_(None), PeerKey.valid_until > self.now),
            )
        )
        if self.peer_id is not None:
            stmt = stmt.where(Peer.id == self.peer_id)
        row = self.session.execute(stmt).one_or_none()
        if row is None:
            return None
        owner = KeyOwner(peer_id=row[1], node_id=row[2], name=row[3], state=row[4])
        if owner.state is not PeerState.ACTIVE:
            self.inactive = owner
            return None
        self.owner = owner
        return decode_public_key(row[0])


class PgNonceCache:
    """federation.signing.NonceCache over federation_nonces (insert, first one wins)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def remember(self, key_id: str, nonce: str, expires_at: datetime) -> bool:
        stmt = (
            insert(Nonce)
            .values(key_id=key_id, nonce=nonce, expires_at=expires_at)
            .on_conflict_do_nothing()
            .returning(Nonce.nonce)
        )
        return self.session.execute(stmt).first() is not None


def purge_nonces(session: Session, now: datetime) -> int:
    """Forget nonces whose signatures can no longer verify; a beat task calls this."""
    result = session.execute(delete(Nonce).where(Nonce.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)
