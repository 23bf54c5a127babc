"""Health service: which cameras are due, what a check means for their record, and what the
API shows. Flushes only; the task or the request commits.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from adapters.base import Target
from hub.health import federation
from hub.health.checks import Baseline, Outcome, Plan
from hub.health.consent import check_allowed, decode_allowed
from hub.health.models import CameraHealth, HealthEvent
from hub.health.rules import Grace, Tracker, advance
from hub.registry.consent import on_map
from hub.registry.models import Camera
from hub.registry.secrets import CredentialBox
from schemas.enums import AdapterKind, CameraStatus
from schemas.health import (
    CameraHealthOut,
    CheckDepth,
    CheckResult,
    HealthChange,
    HealthSettingsUpdate,
    Neighbour,
    NeighboursOut,
    PendingChange,
)

LOST = (CameraStatus.OFFLINE, CameraStatus.TAMPERED)


def sweepable() -> ColumnElement[bool]:
    """Cameras the sweep checks: with an address, not retired, and consent to be checked."""
    return and_(
        Camera.adapter != AdapterKind.NONE,
        Camera.status != CameraStatus.DECOMMISSIONED,
        or_(
            Camera.stream_uri.is_not(None),
            Camera.snapshot_uri.is_not(None),
            Camera.device_uri.is_not(None),
        ),
        check_allowed(),
    )


def claim_due(
    session: Session, now: datetime, limit: int, default_interval_s: int
) -> list[uuid.UUID]:
    """Up to `limit` cameras due for a check, their next check moved one interval on.

    Cameras never checked get their row here, due at once. Rows another sweep holds are
    skipped, so overlapping sweeps never check a camera twice.
    """
    new = (
        select(
            Camera.id,
            literal(default_interval_s),
            literal(now),
            Camera.status,
        )
        .where(sweepable())
        .where(~exists().where(CameraHealth.camera_id == Camera.id))
    )
    columns = ["camera_id", "interval_s", "next_check_at", "status"]
    session.execute(insert(CameraHealth).from_select(columns, new).on_conflict_do_nothing())
    due = (
        select(CameraHealth.camera_id)
        .join(Camera, Camera.id == CameraHealth.camera_id)
        .where(CameraHealth.enabled, CameraHealth.next_check_at <= now, sweepable())
        .order_by(CameraHealth.next_check_at)
        .limit(limit)
        .with_for_update(of=CameraHealth, skip_locked=True)
    )
    ids = list(session.scalars(due))
    if ids:
        seconds = func.make_interval(0, 0, 0, 0, 0, 0, cast(CameraHealth.interval_s, Float))
        session.execute(
            update(CameraHealth)
            .where(CameraHealth.camera_id.in_(ids))
            .values(next_check_at=literal(now) + seconds)
        )
    return ids


def load_plans(
    session: Session, ids: list[uuid.UUID], box: CredentialBox, timeout_s: float
) -> list[Plan]:
    """What each camera's check needs; cameras gone or retired since they were claimed are left
    out."""
    rows = session.execute(
        select(Camera, CameraHealth, decode_allowed().label("decode"))
        .join(CameraHealth, CameraHealth.camera_id == Camera.id)
        .where(Camera.id.in_(ids), sweepable())
    )
    return [_plan(camera, health, bool(decode), box, timeout_s) for camera, health, decode in rows]


def _plan(
    camera: Camera, health: CameraHealth, decode: bool, box: CredentialBox, timeout_s: float
) -> Plan:
    if camera.adapter is AdapterKind.HTTP_SNAPSHOT:
        address = camera.snapshot_uri or ""
    else:
        address = camera.stream_uri or camera.device_uri or camera.snapshot_uri or ""
    depth = CheckDepth.DECODE if decode else CheckDepth.REACHABILITY
    baseline = Baseline.from_row(health.baseline_sharpness, health.reference_signature)
    try:
        creds = box.open(camera.credentials_sealed) if camera.credentials_sealed else None
        target = Target.from_uri(
            address,
            username=creds.username if creds else None,
            password=creds.password if creds else None,
            timeout_s=timeout_s,
        )
    except ValueError as exc:  # messages of Target and CredentialBox never echo values
        return Plan(camera.id, camera.adapter, address, None, depth, baseline, str(exc))
    return Plan(camera.id, camera.adapter, address, target, depth, baseline)


def record(session: Session, outcome: Outcome, grace: Grace) -> HealthEvent | None:
    """Write one check's outcome; the confirmed change it caused, if any (offered to peers
    whose agreement has `camera_health`, in the same transaction)."""
    health = session.get(CameraHealth, outcome.camera_id, with_for_update=True)
    camera = session.get(Camera, outcome.camera_id)
    if health is None or camera is None:
        return None  # deleted while it was checked
    result = outcome.result
    health.last_check = result.model_dump(mode="json")
    if outcome.learned is not None and health.baseline_sharpness is None:
        health.baseline_sharpness = outcome.learned.sharpness
        health.reference_signature = outcome.learned.to_bytes()
    if result.observed is not CameraStatus.OFFLINE:
        camera.last_seen_at = result.checked_at
    if camera.status is CameraStatus.DECOMMISSIONED:
        return None  # retired while it was checked: keep the reading, change nothing
    tracker = Tracker(
        health.status,
        health.since,
        health.candidate,
        health.candidate_since,
        health.candidate_checks,
    )
    step = advance(tracker, result.observed, result.checked_at, grace)
    state = step.tracker
    health.status, health.since = state.status, state.since
    health.candidate, health.candidate_since = state.candidate, state.candidate_since
    health.candidate_checks = state.candidate_checks
    camera.status = state.status  # the sweep is the live authority on a camera's status
    if step.changed_from is None:
        return None
    event = HealthEvent(
        id=uuid.uuid4(),
        camera_id=camera.id,
        occurred_at=result.checked_at,
        previous=step.changed_from,
        status=state.status,
        findings=[finding.value for finding in result.findings],
        message=result.message,
    )
    session.add(event)
    session.flush()
    federation.publish(session, event)
    return event


def change_out(event: HealthEvent) -> HealthChange:
    return HealthChange.model_validate(
        {
            "id": event.id,
            "camera_id": event.camera_id,
            "occurred_at": event.occurred_at,
            "previous": event.previous,
            "status": event.status,
            "findings": event.findings,
        }
    )


@dataclass(frozen=True)
class HealthDefaults:
    interval_s: int = 60


def health_of(
    session: Session, camera: Camera, history: int, defaults: HealthDefaults
) -> CameraHealthOut:
    health = session.get(CameraHealth, camera.id)
    allowed, decode = session.execute(
        select(sweepable(), decode_allowed()).where(Camera.id == camera.id)
    ).one()
    events = session.scalars(
        select(HealthEvent)
        .where(HealthEvent.camera_id == camera.id)
        .order_by(HealthEvent.occurred_at.desc())
        .limit(history)
    )
    depth = (CheckDepth.DECODE if decode else CheckDepth.REACHABILITY) if allowed else None
    pending = None
    if health is not None and health.candidate is not None and health.candidate_since:
        pending = PendingChange(
            status=health.candidate, since=health.candidate_since, checks=health.candidate_checks
        )
    return CameraHealthOut(
        camera_id=camera.id,
        status=camera.status,
        since=health.since if health else None,
        enabled=health.enabled if health else True,
        depth=depth,
        interval_s=health.interval_s if health else defaults.interval_s,
        next_check_at=health.next_check_at if health and health.enabled and allowed else None,
        baseline_set=bool(health and health.baseline_sharpness is not None),
        pending=pending,
        last_check=CheckResult.model_validate(health.last_check)
        if health and health.last_check
        else None,
        history=[change_out(event) for event in events],
    )


def _row(session: Session, camera: Camera, now: datetime, defaults: HealthDefaults) -> CameraHealth:
    health = session.get(CameraHealth, camera.id, with_for_update=True)
    if health is None:
        health = CameraHealth(
            camera_id=camera.id,
            interval_s=defaults.interval_s,
            next_check_at=now,
            status=camera.status,
            enabled=True,
            candidate_checks=0,
        )
        session.add(health)
    return health


def update_settings(
    session: Session,
    camera: Camera,
    data: HealthSettingsUpdate,
    now: datetime,
    defaults: HealthDefaults,
) -> None:
    health = _row(session, camera, now, defaults)
    if data.enabled is not None:
        health.enabled = data.enabled
    if data.interval_s is not None:
        health.interval_s = data.interval_s
        # A shorter interval takes effect now, not after the old, longer wait.
        health.next_check_at = min(health.next_check_at, now + timedelta(seconds=data.interval_s))
    session.flush()


def reset_baseline(
    session: Session, camera: Camera, now: datetime, defaults: HealthDefaults
) -> None:
    """Forget the baseline; the next sound decoded check learns the view as it is now."""
    health = _row(session, camera, now, defaults)
    health.baseline_sharpness = None
    health.reference_signature = None
    health.next_check_at = now
    session.flush()


@dataclass(frozen=True)
class NeighbourQuery:
    radius_m: float
    window_s: int
    threshold: int
    limit: int = 500


def neighbours(
    session: Session,
    camera: Camera,
    query: NeighbourQuery,
    now: datetime,
    scope: uuid.UUID | None,
) -> NeighboursOut:
    """The cameras within `radius_m` of `camera` (itself included in the counts)."""
    here = select(Camera.location).where(Camera.id == camera.id).scalar_subquery()
    distance = func.ST_Distance(func.geography(Camera.location), func.geography(here)).label(
        "distance_m"
    )
    stmt = (
        select(Camera.id, Camera.name, Camera.owner_id, Camera.status, CameraHealth.since, distance)
        .outerjoin(CameraHealth, CameraHealth.camera_id == Camera.id)
        .where(
            func.ST_DWithin(func.geography(Camera.location), func.geography(here), query.radius_m),
            Camera.status != CameraStatus.DECOMMISSIONED,
        )
        .order_by(distance, Camera.id)
        .limit(query.limit + 1)
    )
    if scope is not None:
        stmt = stmt.where(Camera.owner_id == scope)
    rows = session.execute(stmt.where(*on_map(scope))).all()
    counts: dict[CameraStatus, int] = {}
    lost = 0
    cutoff = now - timedelta(seconds=query.window_s)
    found: list[Neighbour] = []
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
        if row.status in LOST and row.since is not None and row.since >= cutoff:
            lost += 1
        if row.id != camera.id:
            found.append(
                Neighbour(
                    camera_id=row.id,
                    name=row.name,
                    owner_id=row.owner_id,
                    distance_m=round(float(row.distance_m), 2),
                    status=row.status,
                    since=row.since,
                )
            )
    return NeighboursOut(
        camera_id=camera.id,
        radius_m=query.radius_m,
        window_s=query.window_s,
        counts=counts,
        lost_recently=lost,
        suspected_attack=lost >= query.threshold,
        attack_threshold=query.threshold,
        neighbours=found[: query.limit],
    )
