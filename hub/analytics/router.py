"""Analytics API: what a camera's stream is analysed for, and its missing-object reference."""

import uuid

from fastapi import APIRouter

from hub.analytics import service
from hub.deps import WRITERS, PrincipalDep, SessionDep, require
from hub.errors import problem_responses
from hub.registry.consent import visible_camera
from schemas.analytics import AnalyticsReference, AnalyticsSettings

analytics_router = APIRouter(
    prefix="/cameras",
    tags=["analytics"],
    responses=problem_responses(400, 401, 403, 404, 413, 422),
)


@analytics_router.get("/{camera_id:uuid}/analytics", response_model=AnalyticsSettings)
def get_analytics(
    camera_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> AnalyticsSettings:
    """The camera's analytics: frame rate, detector backend and model, classes, zones and lines
    (image coordinates, fractions of the frame), plate reading, vehicle class and colour."""
    visible_camera(session, camera_id, principal.org_scope)
    return service.settings_of(session, camera_id)


@analytics_router.put(
    "/{camera_id:uuid}/analytics",
    response_model=AnalyticsSettings,
    responses=problem_responses(409),
)
def put_analytics(
    camera_id: uuid.UUID, data: AnalyticsSettings, session: SessionDep, principal: PrincipalDep
) -> AnalyticsSettings:
    """Replace the camera's analytics settings. 422 names an unusable zone or line; 409 when
    enabling a camera without a stream, retired, or whose owner has not consented to live
    analysis."""
    require(principal, WRITERS, "configure analytics")
    camera = visible_camera(session, camera_id, principal.org_scope)
    service.put_settings(session, camera, data)
    session.commit()
    return service.settings_of(session, camera_id)


@analytics_router.get("/{camera_id:uuid}/analytics/reference", response_model=AnalyticsReference)
def get_reference(
    camera_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> AnalyticsReference:
    """The missing-object reference: the objects that stood in the camera's zones when it was
    last taken and have not been reported missing (zone, class, box, when taken), and whether
    a new one was asked for and not taken yet."""
    visible_camera(session, camera_id, principal.org_scope)
    return service.reference_of(session, camera_id)


@analytics_router.post(
    "/{camera_id:uuid}/analytics/reference",
    response_model=AnalyticsReference,
    status_code=202,
    responses=problem_responses(409),
)
def request_reference(
    camera_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> AnalyticsReference:
    """Ask for a new missing-object reference, replacing the armed one. The camera's analysis
    takes it, from its next segment on, once it has watched for 10 s since the request, so
    that what stands in a zone with `missing_after_s` has been seen standing; follow it with
    GET. 409 when the camera's analytics are not enabled or no zone has `missing_after_s`."""
    require(principal, WRITERS, "arm missing-object references")
    visible_camera(session, camera_id, principal.org_scope)
    service.request_reference(session, camera_id)
    session.commit()
    return service.reference_of(session, camera_id)
