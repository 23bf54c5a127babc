"""Analytics settings per camera. Flushes only; the request commits."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.analytics.geometry import check_line, check_polygon
from hub.analytics.models import CameraAnalytics
from hub.enrolment.rules import Use
from hub.enrolment.service import access_for, permits_clause
from hub.errors import Conflict, Invalid
from hub.registry.models import Camera
from schemas.analytics import AnalyticsSettings
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
