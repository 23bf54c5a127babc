"""Alerts API: list alerts, read one (JSON or CAP 1.2 XML), acknowledge and close them, and
follow them live (Server-Sent Events). Operators and admins. Thin: parse, call, commit."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from hub.alerts import service, stream
from hub.alerts.cap import CAP_MEDIA_TYPE, cap_message
from hub.auth.service import Principal
from hub.deps import PrincipalDep, SessionDep, bearer, get_principal, require
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


async def stream_principal(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    access_token: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="The API token, for clients that cannot set headers (EventSource)",
        ),
    ] = None,
) -> Principal:
    """The caller, by the Authorization header or, on this route only, `?access_token=`: a
    browser's EventSource cannot send headers."""
    if creds is None and access_token is not None:
        creds = HTTPAuthorizationCredentials(scheme="Bearer", credentials=access_token)
    return await get_principal(request, session, creds)


@alerts_router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream_alerts(
    request: Request, principal: Annotated[Principal, Depends(stream_principal)]
) -> StreamingResponse:
    """Alerts as they are raised or change state, as Server-Sent Events: `event: alert`, `id:`
    the alert's id, `data:` the alert's JSON (as GET /alerts/{id}); a comment every 15 s keeps
    the connection open. Authenticate with `Authorization: Bearer` or `?access_token=`."""
    require(principal, OPERATORS, "follow alerts")
    events = stream.alert_events(
        stream.listen_url(request.app.state.engine), request.app.state.sessionmaker
    )
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


@alerts_router.get(
    "/{alert_id:uuid}",
    response_model=AlertOut,
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}}},
)
def get_alert(
    alert_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    accept: Annotated[str | None, Header()] = None,
) -> Response | AlertOut:
    """One alert; with `Accept: application/cap+xml`, as an OASIS CAP 1.2 message (msgType
    Alert while open, Update once acknowledged, Cancel once closed)."""
    require(principal, OPERATORS, "read alerts")
    alert = service.alert_out(service.get_alert(session, alert_id))
    if accept is None or CAP_MEDIA_TYPE not in accept.lower():
        return alert
    sender = service.cap_sender(session, request.url.hostname or "localhost")
    return Response(cap_message(alert, sender), media_type=CAP_MEDIA_TYPE)


@alerts_router.post("/{alert_id:uuid}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> AlertOut:
    """Mark the alert acknowledged (again, or once closed: no change). Peers that hold it
    learn of it."""
    require(principal, OPERATORS, "acknowledge alerts")
    row = service.acknowledge(session, alert_id)
    session.commit()
    return service.alert_out(row)


@alerts_router.post("/{alert_id:uuid}/close", response_model=AlertOut)
def close(alert_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> AlertOut:
    """Close the alert (again: no change). Peers that hold it learn of it."""
    require(principal, OPERATORS, "close alerts")
    row = service.close(session, alert_id)
    session.commit()
    return service.alert_out(row)
