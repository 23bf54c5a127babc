"""Enrolment service: submit, review, change the tier, withdraw; and the access other domains
ask before touching a camera. Services flush; the request commits.

Other domains: `access_for(session, camera_id).permits(Use.LIVE_VIEW, alert_nearby=...)` for
one camera; `select(Camera).where(permits_clause(Use.HEALTH_DECODE))` to filter in SQL.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, false, or_, select, update
from sqlalchemy.orm import Session

from hub.enrolment import rules
from hub.enrolment.models import Enrolment
from hub.errors import Conflict, NotFound
from hub.registry.cameras import create_camera
from hub.registry.models import Camera
from hub.registry.probe import ProbeJob, ProbeState, create_job
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enrolment import (
    Approve,
    ConsentTier,
    EnrolmentCreate,
    EnrolmentOut,
    EnrolmentProbe,
    EnrolmentState,
    Reject,
)
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus

# --- access: asked by the health sweep, live view, analytics -----------------------------------


@dataclass(frozen=True)
class Access:
    """A camera's enrolment as far as access goes; tier None: not an enrolled camera."""

    tier: ConsentTier | None
    state: EnrolmentState | None

    def permits(self, use: rules.Use, alert_nearby: bool = False) -> bool:
        return rules.permits(self.tier, self.state, use, alert_nearby)


def access_for(session: Session, camera_id: uuid.UUID) -> Access:
    row = session.execute(
        select(Enrolment.consent_tier, Enrolment.state).where(Enrolment.camera_id == camera_id)
    ).one_or_none()
    return Access(None, None) if row is None else Access(row.consent_tier, row.state)


def permits_clause(use: rules.Use, alert_nearby: bool = False) -> ColumnElement[bool]:
    """A condition on Camera: true where `use` is permitted, for filtering cameras in SQL.

    Built from rules.permits itself, so SQL and Python cannot disagree.
    """
    granted = [
        and_(Enrolment.state == state, Enrolment.consent_tier == tier)
        for tier in ConsentTier
        for state in EnrolmentState
        if rules.permits(tier, state, use, alert_nearby)
    ]
    enrolled = select(Enrolment.id).where(Enrolment.camera_id == Camera.id)
    return or_(~enrolled.exists(), enrolled.where(or_(false(), *granted)).exists())


# --- the enrolment's life --------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _camera_data(data: EnrolmentCreate) -> CameraCreate:
    return CameraCreate(
        location=data.location,
        name=data.name,
        external_id=data.external_id,
        heading_deg=data.heading_deg,
        fov_deg=data.fov_deg,
        range_m=data.range_m,
        adapter=data.adapter,
        stream_uri=data.stream_uri,
        snapshot_uri=data.snapshot_uri,
        credentials=data.credentials,
        retention_days=data.retention_days,
        purpose=CameraPurpose.PRIVATE_PREMISES,
        status=CameraStatus.UNKNOWN,
    )


def enrol(
    session: Session, box: CredentialBox, org_id: uuid.UUID, data: EnrolmentCreate
) -> tuple[Enrolment, ProbeJob | None]:
    """The camera, its enrolment (submitted) and, when it has an address, a queued probe."""
    camera = create_camera(session, box, _camera_data(data), org_id)
    enrolment = Enrolment(
        id=uuid.uuid4(),
        camera_id=camera.id,
        org_id=org_id,
        state=EnrolmentState.SUBMITTED,
        consent_tier=data.consent_tier,
        retention_days=data.retention_days,
        privacy_masks=data.privacy_masks,
    )
    session.add(enrolment)
    job = None
    if camera.adapter is not AdapterKind.NONE and (camera.stream_uri or camera.snapshot_uri):
        job = create_job(session, camera)
        enrolment.probe_job_id = job.id
    session.flush()
    session.refresh(enrolment)
    return enrolment, job


def get_enrolment(
    session: Session, enrolment_id: uuid.UUID, scope: uuid.UUID | None, lock: bool = False
) -> Enrolment:
    """An enrolment by id; outside the caller's organization it does not exist for them."""
    stmt = select(Enrolment).where(Enrolment.id == enrolment_id)
    if scope is not None:
        stmt = stmt.where(Enrolment.org_id == scope)
    if lock:  # a review and a withdrawal of the same enrolment run one after the other
        stmt = stmt.with_for_update()
    enrolment = session.scalars(stmt).one_or_none()
    if enrolment is None:
        raise NotFound("Enrolment", enrolment_id)
    return enrolment


def list_enrolments(
    session: Session,
    scope: uuid.UUID | None,
    state: EnrolmentState | None,
    pending_review: bool | None,
    limit: int,
    offset: int,
) -> list[EnrolmentOut]:
    stmt = select(Enrolment, ProbeJob).outerjoin(ProbeJob, ProbeJob.id == Enrolment.probe_job_id)
    if scope is not None:
        stmt = stmt.where(Enrolment.org_id == scope)
    if state is not None:
        stmt = stmt.where(Enrolment.state == state)
    if pending_review is not None:
        pending = _pending_clause()
        stmt = stmt.where(pending if pending_review else ~pending)
    stmt = stmt.order_by(Enrolment.submitted_at.desc(), Enrolment.id).limit(limit).offset(offset)
    return [enrolment_out(e, job) for e, job in session.execute(stmt)]


def _pending_clause() -> ColumnElement[bool]:
    return or_(
        Enrolment.state == EnrolmentState.SUBMITTED,
        and_(Enrolment.state == EnrolmentState.APPROVED, Enrolment.requested_tier.is_not(None)),
    )


def _pending(enrolment: Enrolment) -> bool:
    return enrolment.state is EnrolmentState.SUBMITTED or (
        enrolment.state is EnrolmentState.APPROVED and enrolment.requested_tier is not None
    )


def review(
    session: Session, enrolment: Enrolment, decision: Approve | Reject, reviewer: uuid.UUID
) -> Enrolment:
    """Record an operator's decision on a submission or on a requested higher tier.

    Rejecting a submission shuts the camera off (credentials erased, decommissioned): the node
    has no use for them. Rejecting a higher tier leaves the tier granted so far in force.
    """
    if not _pending(enrolment):
        raise Conflict(
            f"The enrolment is {enrolment.state.value} with no tier change requested; "
            "only submissions and requested tier changes are reviewed."
        )
    if isinstance(decision, Approve):
        enrolment.consent_tier = enrolment.requested_tier or enrolment.consent_tier
        enrolment.state = EnrolmentState.APPROVED
    elif enrolment.state is EnrolmentState.SUBMITTED:
        enrolment.state = EnrolmentState.REJECTED
        _shut_off(session, enrolment.camera_id, "enrolment_rejected")
    enrolment.requested_tier = None
    enrolment.reviewed_at = _now()
    enrolment.reviewed_by = reviewer
    enrolment.decision_reason = decision.reason
    session.flush()
    return enrolment


def change_tier(session: Session, enrolment: Enrolment, tier: ConsentTier) -> Enrolment:
    """Lower the tier at once, or ask for a higher one (an operator approves it first)."""
    if enrolment.state in (EnrolmentState.REJECTED, EnrolmentState.WITHDRAWN):
        raise Conflict(f"The enrolment is {enrolment.state.value}; enrol the camera again.")
    granted = enrolment.state is EnrolmentState.APPROVED
    if granted and not rules.at_least(enrolment.consent_tier, tier):
        enrolment.requested_tier = tier
    else:  # not granted yet, or lower (or the same): in force at once, any raise forgotten
        enrolment.consent_tier = tier
        enrolment.requested_tier = None
    session.flush()
    return enrolment


def withdraw(session: Session, enrolment: Enrolment) -> Enrolment:
    """Withdraw consent, effective at once: credentials erased, camera decommissioned, a
    queued probe cancelled. Withdrawing twice is a conflict (it already happened)."""
    if enrolment.state is EnrolmentState.WITHDRAWN:
        raise Conflict("The enrolment is already withdrawn.")
    enrolment.state = EnrolmentState.WITHDRAWN
    enrolment.requested_tier = None
    enrolment.withdrawn_at = _now()
    _shut_off(session, enrolment.camera_id, "enrolment_withdrawn")
    session.flush()
    return enrolment


def _shut_off(session: Session, camera_id: uuid.UUID, reason: str) -> None:
    camera = session.get(Camera, camera_id, with_for_update=True)
    assert camera is not None  # the enrolment cascades with its camera
    camera.credentials_sealed = None
    camera.status = CameraStatus.DECOMMISSIONED
    # A worker skips finished jobs, so a queued probe never connects.
    session.execute(
        update(ProbeJob)
        .where(ProbeJob.camera_id == camera_id, ProbeJob.state == ProbeState.QUEUED)
        .values(
            state=ProbeState.FAILED,
            error_code=reason,
            error_message="consent for this camera ended before the probe ran",
            finished_at=_now(),
        )
    )


def probe_job(session: Session, enrolment: Enrolment) -> ProbeJob | None:
    if enrolment.probe_job_id is None:
        return None
    return session.get(ProbeJob, enrolment.probe_job_id)


def enrolment_out(enrolment: Enrolment, job: ProbeJob | None) -> EnrolmentOut:
    probe = None
    if job is not None:
        probe = EnrolmentProbe(job_id=job.id, state=job.state.value, error_code=job.error_code)
    return EnrolmentOut(
        id=enrolment.id,
        camera_id=enrolment.camera_id,
        org_id=enrolment.org_id,
        state=enrolment.state,
        consent_tier=enrolment.consent_tier,
        requested_tier=enrolment.requested_tier,
        pending_review=_pending(enrolment),
        retention_days=enrolment.retention_days,
        privacy_masks=enrolment.privacy_masks,
        submitted_at=enrolment.submitted_at,
        reviewed_at=enrolment.reviewed_at,
        reviewed_by=enrolment.reviewed_by,
        decision_reason=enrolment.decision_reason,
        withdrawn_at=enrolment.withdrawn_at,
        probe=probe,
    )
