"""Alerts API: list alerts, acknowledge one. Operators and admins. Thin: parse, call, commit."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from hub.alerts import service
from hub.deps import PrincipalDep, SessionDep, require
from hub.errors import problem_responses
from hub.hotlists.router import OPERATORS
from hub.paging import Cursor
from schemas.hotlists import AlertOut, AlertPage, AlertState

alerts_router = APIRouter(
    prefix="/alerts", tags=["alerts"], responses=problem_responses(401, 403, 404, 422)
)


@alerts_router.get("", response_model=AlertPage)
def list_alerts(
    session: SessionDep,
    principal: PrincipalDep,
    state: AlertState | None = None,
    camera_id: uuid.UUID | None = None,
    plate: Annotated[str | None, Query(pattern=r"^[A-Z0-9]{1,16}$")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AlertPage:
    """Alerts newest first: hotlist matches with the read's plate, camera, time and evidence."""
    require(principal, OPERATORS, "read alerts")
    query = service.AlertQuery(
        state=state, camera_id=camera_id, plate=plate, cursor=cursor, limit=limit
    )
    return service.list_alerts(session, query)


@alerts_router.post("/{alert_id:uuid}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> AlertOut:
    """Mark the alert acknowledged (again: no change)."""
    require(principal, OPERATORS, "acknowledge alerts")
    row = service.acknowledge(session, alert_id)
    session.commit()
    return service.alert_out(row)
