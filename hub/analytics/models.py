"""Tables `camera_analytics` (what each camera's stream is analysed for) and
`camera_analytics_state` (what one segment of its analysis hands the next)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class CameraAnalytics(Base):
    """One row per camera an operator configured; `settings` is a schemas.analytics
    AnalyticsSettings as JSON (validated on the way in and out)."""

    __tablename__ = "camera_analytics"

    camera_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class AnalyticsState(Base):
    """One row per analysed camera: the tracker and rules a segment left (see
    hub.analytics.state), for the settings whose hash it carries, and the missing-object
    reference, armed (`reference_objects`, readable without unpickling) or requested."""

    __tablename__ = "camera_analytics_state"

    camera_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    settings_hash: Mapped[str | None] = mapped_column(String(64))
    last_frame_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[bytes | None] = mapped_column(LargeBinary)
    # schemas.analytics ArmedReference as JSON, as of the last save.
    reference_objects: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    reference_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    saved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
