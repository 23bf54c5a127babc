"""Health API: a camera's health and history, its check settings, and its neighbours' state."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from hub.deps import WRITERS, PrincipalDep, SessionDep, require
from hub.errors import problem_responses
from hub.health import service
from hub.registry.consent import visible_camera
from schemas.health import CameraHealthOut, HealthSettingsUpdate, NeighboursOut

health_router = APIRouter(
    prefix="/cameras",
    tags=["health"],
    responses=problem_responses(400, 401, 403, 404, 413, 422),
)


def _defaults(request: Request) -> service.HealthDefaults:
    return service.HealthDefaults(interval_s=request.app.state.settings.health_interval_s)


@health_router.get("/{camera_id:uuid}/health", response_model=CameraHealthOut)
def get_health(
    camera_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    history: Annotated[
        int, Query(ge=0, le=500, description="How many past changes to include")
    ] = 50,
) -> CameraHealthOut:
    """The camera's status (online, offline, degraded, tampered), since when, the last check's
    findings and measures, a change still within its grace period, and the history of
    confirmed changes, newest first. `depth` says how far consent lets checks look."""
    camera = visible_camera(session, camera_id, principal.org_scope)
    return service.health_of(session, camera, history, _defaults(request))


@health_router.patch("/{camera_id:uuid}/health", response_model=CameraHealthOut)
def update_health(
    camera_id: uuid.UUID,
    data: HealthSettingsUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> CameraHealthOut:
    """Turn the camera's checks on or off, or set its interval (10 s to a day)."""
    require(principal, WRITERS, "change health checks")
    camera = visible_camera(session, camera_id, principal.org_scope)
    defaults = _defaults(request)
    service.update_settings(session, camera, data, datetime.now(UTC), defaults)
    session.commit()
    return service.health_of(session, camera, 50, defaults)


@health_router.post("/{camera_id:uuid}/health/baseline", response_model=CameraHealthOut)
def reset_baseline(
    camera_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> CameraHealthOut:
    """Forget the camera's sharpness baseline and reference scene (after it was re-aimed or
    refocused on purpose); the next sound check learns the view as it is, and runs at once."""
    require(principal, WRITERS, "reset health baselines")
    camera = visible_camera(session, camera_id, principal.org_scope)
    defaults = _defaults(request)
    service.reset_baseline(session, camera, datetime.now(UTC), defaults)
    session.commit()
    return service.health_of(session, camera, 50, defaults)


@health_router.get("/{camera_id:uuid}/neighbours", response_model=NeighboursOut)
def get_neighbours(
    camera_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    radius_m: Annotated[float, Query(gt=0, le=5000, description="Metres around the camera")] = 200,
    window_s: Annotated[
        int, Query(ge=60, le=86_400, description="How recent a loss counts, seconds")
    ] = 900,
    threshold: Annotated[
        int, Query(ge=2, le=100, description="Losses in the window that suggest an attack")
    ] = 3,
) -> NeighboursOut:
    """The state of the cameras within `radius_m`, nearest first, with counts by status and
    how many were lost (offline or tampered) within `window_s`: several going dark around one
    spot at once is an attack pattern. Business tokens see only their own cameras."""
    camera = visible_camera(session, camera_id, principal.org_scope)
    query = service.NeighbourQuery(radius_m=radius_m, window_s=window_s, threshold=threshold)
    return service.neighbours(session, camera, query, datetime.now(UTC), principal.org_scope)
