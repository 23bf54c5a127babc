"""Table `camera_events`: every normalized event the node took in, keyed by the event's id.

The id is the event's own, so a redelivered event is stored once (INSERT ... ON CONFLICT DO
NOTHING). `published_at` makes the table the outbox of the "events" exchange: an event is
stored first and published after, so a broker outage delays events but loses none (the
publisher sends rows still null once the broker is back, and then stamps them).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.registry.models import str_enum
from schemas.events import EventKind


class CameraEventRow(Base):
    __tablename__ = "camera_events"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    camera_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("cameras.id", ondelete="CASCADE"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "event_kind"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    active: Mapped[bool | None] = mapped_column(Boolean)
    initial: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    source: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    raw: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # A camera's events newest first, id breaking ties: the API's keyset pages.
        Index(
            "ix_camera_events_camera_occurred",
            "camera_id",
            text("occurred_at DESC"),
            text("id DESC"),
        ),
        # Small: only events the broker has not yet taken.
        Index(
            "ix_camera_events_unpublished",
            "received_at",
            postgresql_where=text("published_at IS NULL"),
        ),
    )
