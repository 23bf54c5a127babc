"""Table `camera_analytics`: what each camera's stream is analysed for."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, func
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
