"""The `enrolments` table: one per private camera, with its consent and review."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.registry.models import str_enum
from schemas.enrolment import ConsentTier, EnrolmentState


class Enrolment(Base):
    __tablename__ = "enrolments"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    # One enrolment per camera: the camera row exists because of it.
    camera_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("cameras.id", ondelete="CASCADE"), unique=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    state: Mapped[EnrolmentState] = mapped_column(str_enum(EnrolmentState, "enrolment_state"))
    consent_tier: Mapped[ConsentTier] = mapped_column(str_enum(ConsentTier, "consent_tier"))
    requested_tier: Mapped[ConsentTier | None] = mapped_column(
        str_enum(ConsentTier, "requested_tier"), nullable=True
    )
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # Polygons in normalized image coordinates: [[[x, y], ...], ...].
    privacy_masks: Mapped[list[Any]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The reviewing token's id; no foreign key, so the record outlives the token.
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    probe_job_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("probe_jobs.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        Index("ix_enrolments_org_id", "org_id"),
        Index("ix_enrolments_state", "state"),
    )
