"""Probe jobs: a request to probe a registered camera, run by a worker, readable by the API.

The job's state lives in the node's own database (table `probe_jobs`), not in a Celery result
backend: the API answers from the same place the worker writes, and a job outlives the broker.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub.db import Base
from hub.errors import Conflict, NotFound
from hub.registry.models import Camera, str_enum
from schemas.adapters import CameraDescription
from schemas.enums import AdapterKind


class ProbeState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED = frozenset({ProbeState.SUCCEEDED, ProbeState.FAILED})


class ProbeJob(Base):
    __tablename__ = "probe_jobs"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    camera_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("cameras.id", ondelete="CASCADE"))
    state: Mapped[ProbeState] = mapped_column(str_enum(ProbeState, "probe_state"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_probe_jobs_camera_id", "camera_id"),)


class ProbeJobOut(BaseModel):
    """A probe job as the API shows it. Messages are the adapters' redacted, safe ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    camera_id: uuid.UUID
    state: ProbeState
    attempts: int = Field(ge=0)
    error_code: str | None = Field(
        default=None, description="Machine-readable failure, e.g. connection_refused"
    )
    error_message: str | None = None
    result: CameraDescription | None = Field(
        default=None, description="What the probe found, when it succeeded"
    )
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


def job_out(job: ProbeJob) -> ProbeJobOut:
    return ProbeJobOut(
        id=job.id,
        camera_id=job.camera_id,
        state=job.state,
        attempts=job.attempts,
        error_code=job.error_code,
        error_message=job.error_message,
        result=None if job.result is None else CameraDescription.model_validate(job.result),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def create_job(session: Session, camera: Camera) -> ProbeJob:
    """A queued job for `camera`; refused when the camera has nothing to probe."""
    if camera.adapter is AdapterKind.NONE:
        raise Conflict("The camera's adapter is none (inventory only); set one to probe it.")
    if not (camera.stream_uri or camera.snapshot_uri or camera.device_uri):
        raise Conflict(
            "The camera has no address (stream_uri, snapshot_uri or device_uri) to probe."
        )
    job = ProbeJob(id=uuid.uuid4(), camera_id=camera.id, state=ProbeState.QUEUED, attempts=0)
    session.add(job)
    session.flush()
    session.refresh(job)
    return job


def get_job(session: Session, job_id: uuid.UUID, scope: uuid.UUID | None) -> ProbeJob:
    """A job by id; a job on a camera outside the caller's scope does not exist for them."""
    stmt = select(ProbeJob).where(ProbeJob.id == job_id)
    if scope is not None:
        stmt = stmt.join(Camera, Camera.id == ProbeJob.camera_id).where(Camera.owner_id == scope)
    job = session.scalars(stmt).one_or_none()
    if job is None:
        raise NotFound("Probe job", job_id)
    return job
