"""Analytics settings per camera, and its missing-object reference. Flushes only; the request
commits."""

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hub.analytics.geometry import check_line, check_polygon
from hub.analytics.models import AnalyticsState, CameraAnalytics
from hub.enrolment.rules import Use
from hub.enrolment.service import access_for, permits_clause
from hub.errors import Conflict, Invalid
from hub.registry.models import Camera
from schemas.analytics import AnalyticsReference, AnalyticsSettings, ArmedReference
from schemas.enums import AdapterKind, CameraStatus


def settings_of(session: Session, camera_id: uuid.UUID) -> AnalyticsSettings:
    """The camera's settings; defaults (disabled) for a camera never configured."""
    row = session.get(CameraAnalytics, camera_id)
    return AnalyticsSettings() if row is None else AnalyticsSettings.model_validate(row.settings)


def check_geometry(settings: AnalyticsSettings) -> None:
    """Zones and lines an operator drew must be usable; a 422 names the one that is not."""
    for zone in settings.zones:
        try:
            check_polygon(zone.id, zone.polygon)
        except ValueError as exc:
            raise Invalid(str(exc), "zones") from None
    for line in settings.lines:
        try:
            check_line(line.id, line.start, line.end)
        except ValueError as exc:
            raise Invalid(str(exc), "lines") from None


def put_settings(session: Session, camera: Camera, settings: AnalyticsSettings) -> None:
    """Replace the camera's settings. Enabling needs a stream and, for an enrolled private
    camera, consent to analyse it (live_always)."""
    check_geometry(settings)
    if settings.enabled:
        if camera.adapter is AdapterKind.NONE or not camera.stream_uri:
            raise Conflict("The camera has no stream to analyse; register its stream_uri first.")
        if camera.status is CameraStatus.DECOMMISSIONED:
            raise Conflict("The camera is decommissioned; it is not analysed.")
        access = access_for(session, camera.id)
        if not access.permits(Use.ANALYTICS):
            tier = access.tier.value if access.tier else "none"
            raise Conflict(
                f"The camera is enrolled with consent tier {tier}: its owner has not consented "
                "to live analysis (needs live_always, approved)."
            )
    row = session.get(CameraAnalytics, camera.id)
    document = settings.model_dump(mode="json")
    if row is None:
        session.add(CameraAnalytics(camera_id=camera.id, settings=document))
    else:
        row.settings = document
    session.flush()


def enabled_cameras(session: Session, camera_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Cameras to analyse now (or just `camera_id`, if it is one): enabled, not retired, with
    consent (checked again here: consent may have been withdrawn since the settings were
    saved)."""
    stmt = (
        select(CameraAnalytics.camera_id)
        .join(Camera, Camera.id == CameraAnalytics.camera_id)
        .where(
            CameraAnalytics.settings["enabled"].as_boolean(),
            Camera.status != CameraStatus.DECOMMISSIONED,
            Camera.stream_uri.is_not(None),
            permits_clause(Use.ANALYTICS),
        )
        .order_by(CameraAnalytics.camera_id)
    )
    if camera_id is not None:
        stmt = stmt.where(CameraAnalytics.camera_id == camera_id)
    return list(session.scalars(stmt))


def settings_hash(settings: AnalyticsSettings) -> str:
    """What the analysis depends on, hashed: a segment carries on from the previous one only
    while this is unchanged. Switching the analytics off and on again is not a change."""
    document = settings.model_dump_json(exclude={"enabled"})
    return hashlib.sha256(document.encode()).hexdigest()


def request_reference(session: Session, camera_id: uuid.UUID) -> datetime:
    """Ask the analysis to take a new missing-object reference (it replaces the armed one);
    when it was asked. 409 when the camera is not analysed for missing objects."""
    settings = settings_of(session, camera_id)
    if not settings.enabled:
        raise Conflict("The camera's analytics are not enabled; enable them first.")
    if all(zone.missing_after_s is None for zone in settings.zones):
        raise Conflict(
            "No zone of the camera has missing_after_s: there is nothing to take a reference of."
        )
    now = datetime.now(UTC)
    stmt = insert(AnalyticsState).values(camera_id=camera_id, reference_requested_at=now)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[AnalyticsState.camera_id], set_={"reference_requested_at": now}
        )
    )
    session.flush()
    return now


def reference_of(session: Session, camera_id: uuid.UUID) -> AnalyticsReference:
    """The armed references and any pending request. References taken under other settings
    are not listed: the next segment starts afresh and drops them."""
    row = session.get(AnalyticsState, camera_id, populate_existing=True)
    if row is None:
        return AnalyticsReference(pending=False)
    current = row.settings_hash == settings_hash(settings_of(session, camera_id))
    armed = row.reference_objects if current else []
    return AnalyticsReference(
        pending=row.reference_requested_at is not None,
        requested_at=row.reference_requested_at,
        references=[ArmedReference.model_validate(item) for item in armed],
    )
