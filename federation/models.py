"""Federation tables: this node's identity and keys, its peers, agreements, the outbox with its
per-peer deliveries, the inbox, the replay cache, rejected requests and the query audit log.

Private keys never enter the database: files in C4HUB_DATA_DIR/keys, named by key id.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.registry.models import str_enum
from schemas.federation import KeyStatus, PeerState


class NodeIdentity(Base):
    """The one row that says who this node is (created by `c4hub init`)."""

    __tablename__ = "node_identity"

    singleton: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    node_id: Mapped[uuid.UUID] = mapped_column(UUID)
    name: Mapped[str] = mapped_column(String(200))
    api_base: Mapped[str] = mapped_column(String(500))
    jurisdiction: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("singleton = 1", name="ck_node_identity_singleton"),)


class NodeKey(Base):
    """This node's public keys and their roles; the private halves are files in data_dir/keys."""

    __tablename__ = "node_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[KeyStatus] = mapped_column(str_enum(KeyStatus, "key_status"))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Peer(Base):
    __tablename__ = "peers"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    node_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    api_base: Mapped[str] = mapped_column(String(500))
    jurisdiction: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True
    )
    state: Mapped[PeerState] = mapped_column(str_enum(PeerState, "peer_state"))
    state_reason: Mapped[str | None] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Circuit breaker: consecutive failed deliveries, and until when nothing is tried.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    circuit_open_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PeerKey(Base):
    """A peer's published keys; a key id resolves only while its peer is active."""

    __tablename__ = "peer_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    peer_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("peers.id", ondelete="CASCADE"))
    public_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[KeyStatus] = mapped_column(str_enum(KeyStatus, "key_status"))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_peer_keys_peer_id", "peer_id"),)


class Side(StrEnum):
    LOCAL = "local"
    PEER = "peer"


class Agreement(Base):
    """Terms seen from this node: scopes_out flow to the peer, scopes_in come from it. The
    peer holds the same agreement (same id) with the two lists swapped. Its state is derived
    (federation.policy.agreement_state) from the acceptances, suspension, revocation, expiry."""

    __tablename__ = "agreements"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    peer_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("peers.id", ondelete="CASCADE"))
    proposed_by: Mapped[Side] = mapped_column(str_enum(Side, "agreement_proposed_by"))
    scopes_out: Mapped[list[str]] = mapped_column(ARRAY(Text))
    scopes_in: Mapped[list[str]] = mapped_column(ARRAY(Text))
    area: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True
    )
    purpose: Mapped[str] = mapped_column(String(500))
    legal_basis: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    peer_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_by: Mapped[Side | None] = mapped_column(str_enum(Side, "agreement_suspended_by"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[Side | None] = mapped_column(str_enum(Side, "agreement_revoked_by"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_agreements_peer_id", "peer_id"),)


class Nonce(Base):
    """The replay cache: a (key id, nonce) seen once is refused until it expires."""

    __tablename__ = "federation_nonces"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_federation_nonces_expires_at", "expires_at"),)


class OutboxEvent(Base):
    """A federated event, written in the same transaction as what it reports; `id` is the
    CloudEvent id. Its deliveries say which peers get it and how far each got."""

    __tablename__ = "federation_outbox"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(200))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    position: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_federation_outbox_subject", "subject"),)


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # retries spent or refused by the peer: the operator's dead-letter view
    WITHHELD = "withheld"  # the agreement no longer allows it: never sent


class Delivery(Base):
    __tablename__ = "federation_deliveries"

    outbox_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("federation_outbox.id", ondelete="CASCADE"), primary_key=True
    )
    peer_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[DeliveryState] = mapped_column(
        str_enum(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index(
            "ix_federation_deliveries_due",
            "peer_id",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
        ),
        Index(
            "ix_federation_deliveries_order",
            "peer_id",
            "created_at",
            "outbox_id",
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_federation_deliveries_dead", "peer_id", postgresql_where=text("state = 'dead'")),
    )


class InboxEvent(Base):
    """Every event received, once: (source, id) is the CloudEvents identity."""

    __tablename__ = "federation_inbox"

    source: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(100))
    peer_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("peers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(100))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    position: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        # Event id first: all of a peer's events share one source (see migration 0010).
        PrimaryKeyConstraint("event_id", "source", name="federation_inbox_pkey"),
        Index("ix_federation_inbox_type_time", "type", "time"),
    )


class Rejection(Base):
    """A federation request refused (bad signature, replay, unknown key, revoked peer...)."""

    __tablename__ = "federation_rejections"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[int] = mapped_column(SmallInteger)
    code: Mapped[str] = mapped_column(String(50))
    key_id: Mapped[str | None] = mapped_column(String(200))
    peer_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    method: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(String(1000))
    remote: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(String(500))

    __table_args__ = (Index("ix_federation_rejections_at", text("at DESC")),)


class AuditEntry(Base):
    """Who asked what of whom, why: federated queries on the asking and the answering node."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    role: Mapped[str] = mapped_column(String(20), comment="asked | answered")
    query_id: Mapped[uuid.UUID] = mapped_column(UUID)
    kind: Mapped[str] = mapped_column(String(50))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    purpose: Mapped[str] = mapped_column(String(500))
    case_number: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200), comment="token id or the asking node's id")
    peer_node_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    status: Mapped[str] = mapped_column(String(20))
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_audit_log_at", text("at DESC")),
        Index("ix_audit_log_case", "case_number"),
    )
