"""Table `alerts`: what operators must look at, raised by hotlist matches.

An alert copies what it needs of the read and the entry (plate, time, evidence, category):
plate reads are dropped after their retention and entries may be deleted, while the alert is
the record of what was raised and must stay readable.
"""

import uuid
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import DateTime, ForeignKey, Index, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.registry.models import str_enum
from schemas.hotlists import AlertKind, AlertState, Category


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, "alert_kind"))
    state: Mapped[AlertState] = mapped_column(
        str_enum(AlertState, "alert_state"), default=AlertState.OPEN
    )
    priority: Mapped[int] = mapped_column(SmallInteger)
    # Null for an alert a peer raised: its camera is in the peer's registry, not ours.
    camera_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("cameras.id", ondelete="CASCADE")
    )
    camera_name: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    # Set when a peer raised it: that node and its id for the alert there.
    origin_node_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    origin_alert_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    # The node that issued the hotlist entry (null: this node) and the entry's id there.
    entry_origin_node: Mapped[uuid.UUID | None] = mapped_column(UUID)
    entry_origin_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    read_id: Mapped[uuid.UUID] = mapped_column(UUID)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    plate: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str | None] = mapped_column(String(500))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("hotlist_entries.id", ondelete="SET NULL")
    )
    entry_plate: Mapped[str] = mapped_column(String(16))
    category: Mapped[Category] = mapped_column(str_enum(Category, "hotlist_category"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Newest first, id breaking ties: the API's keyset pages; open ones for the console.
        Index("ix_alerts_created", text("created_at DESC"), text("id DESC")),
        Index("ix_alerts_open", "created_at", postgresql_where=text("state = 'open'")),
        # One alert per read and entry: a redelivered read raises nothing new.
        Index("uq_alerts_read_entry", "read_id", "entry_id", unique=True),
        Index("ix_alerts_entry_id", "entry_id"),
        Index(
            "uq_alerts_origin",
            "origin_node_id",
            "origin_alert_id",
            unique=True,
            postgresql_where=text("origin_node_id IS NOT NULL"),
        ),
    )
