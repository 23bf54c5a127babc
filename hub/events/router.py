"""Camera events API: a camera's stored events, newest first, filtered and paged by cursor."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from hub.deps import PrincipalDep, SessionDep
from hub.errors import problem_responses
from hub.events import service
from hub.paging import Cursor
from hub.registry.consent import visible_camera
from schemas.events import CameraEventPage, EventKind, UtcTimestamp

events_router = APIRouter(tags=["events"], responses=problem_responses(401, 403, 404, 422))


@events_router.get("/cameras/{camera_id:uuid}/events", response_model=CameraEventPage)
def list_camera_events(
    camera_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    kind: EventKind | None = None,
    since: Annotated[
        UtcTimestamp | None, Query(description="Events that occurred at or after this time")
    ] = None,
    until: Annotated[
        UtcTimestamp | None, Query(description="Events that occurred before this time")
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CameraEventPage:
    """What the camera reported (motion, line crossing, intrusion, tamper, person, vehicle;
    unknown topics with the camera's original message in `raw`), newest first.

    Business tokens see only their organization's cameras; another camera answers 404.
    """
    visible_camera(session, camera_id, principal.org_scope)
    query = service.EventQuery(kind=kind, since=since, until=until, cursor=cursor, limit=limit)
    return service.list_events(session, camera_id, query)
