"""Health tables: each camera's checking state, and the history of its confirmed changes."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.registry.models import str_enum
from schemas.enums import CameraStatus


class CameraHealth(Base):
    """One row per checked camera, made by the sweep the first time it picks the camera.

    `status` mirrors the camera's registry status as the sweep last confirmed it; `candidate*`
    is what the grace period is still weighing. The baseline (median sharpness of a sound
    window, and the scene signature of its first frame) is what the defocus and scene checks
    compare against: the camera's own view, not a fixed threshold.
    """

    __tablename__ = "camera_health"

    camera_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    interval_s: Mapped[int] = mapped_column(Integer)
    next_check_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[CameraStatus] = mapped_column(str_enum(CameraStatus, "health_status"))
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    candidate: Mapped[CameraStatus | None] = mapped_column(
        str_enum(CameraStatus, "health_candidate"), nullable=True
    )
    candidate_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    candidate_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_check: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    baseline_sharpness: Mapped[float | None] = mapped_column(Float)
    reference_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        Index("ix_camera_health_due", "next_check_at", postgresql_where=text("enabled")),
    )


class HealthEvent(Base):
    """A confirmed change of status: the history an operator reads, newest first."""

    __tablename__ = "health_events"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    camera_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("cameras.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    previous: Mapped[CameraStatus] = mapped_column(str_enum(CameraStatus, "health_previous"))
    status: Mapped[CameraStatus] = mapped_column(str_enum(CameraStatus, "health_status"))
    findings: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    message: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_health_events_camera_time", "camera_id", text("occurred_at DESC")),
        Index("ix_health_events_time", "occurred_at"),
    )
