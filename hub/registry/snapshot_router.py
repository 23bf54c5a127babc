"""Live snapshot: one JPEG taken now through the camera's adapter, where consent allows it.

Public cameras (not enrolled) and enrolled cameras approved for live view at any time
(live_always) answer; the others are refused with 403 saying which consent is missing.
Live view on alarm waits for alerts (a later issue): no alert counts as active yet.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from adapters.base import AdapterError, CameraAdapter, Target
from adapters.registry import AdapterLoadError, AdapterRegistry, UnknownAdapter
from hub.auth.service import Principal
from hub.deps import BoxDep, PrincipalDep, SessionDep, SettingsDep, require
from hub.enrolment.rules import Use
from hub.errors import Conflict, ProblemError, problem_responses
from hub.registry import consent
from hub.registry.secrets import CredentialBox
from hub.registry.targets import Address, target_for
from schemas.enums import AdapterKind, Role

log = logging.getLogger(__name__)

JPEG = "image/jpeg"
VIEWERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.BUSINESS})

snapshot_router = APIRouter(tags=["cameras"])


class CameraFailed(ProblemError):
    """The camera did not give a picture: the adapter's status, code and redacted message."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(status, code, title, detail)


@dataclass(frozen=True)
class _Plan:
    adapter: CameraAdapter
    target: Target


def _plan(
    session: Session,
    camera_id: uuid.UUID,
    principal: Principal,
    box: CredentialBox,
    adapters: AdapterRegistry,
    timeout_s: float,
) -> _Plan:
    """Checks and the target, in a worker thread (database and key work)."""
    require(principal, VIEWERS, "view cameras live")
    camera = consent.visible_camera(session, camera_id, principal.org_scope)
    consent.require_use(session, camera, Use.LIVE_VIEW, "live view")
    if camera.adapter is AdapterKind.NONE:
        raise Conflict("The camera's adapter is none (inventory only); set one to view it.")
    address = Address(camera.adapter, camera.stream_uri, camera.snapshot_uri, camera.device_uri)
    if not address.reachable:
        raise Conflict("The camera has no address (stream_uri, snapshot_uri or device_uri).")
    try:
        adapter = adapters.create(camera.adapter.value)
    except (UnknownAdapter, AdapterLoadError) as exc:
        raise CameraFailed(503, "adapter_unavailable", "Adapter unavailable", str(exc)) from None
    try:
        creds = box.open(camera.credentials_sealed) if camera.credentials_sealed else None
        target = target_for(address, creds, timeout_s)
    except ValueError as exc:  # messages of Target and CredentialBox never echo values
        raise Conflict(f"The camera cannot be reached as registered: {exc}") from None
    # Ends the read transaction: no database connection is held while the camera answers.
    session.commit()
    return _Plan(adapter, target)


async def _take(plan: _Plan, timeout_s: float) -> bytes:
    # Adapters bound each call by the target's timeout; this bounds the whole snapshot.
    try:
        return await asyncio.wait_for(plan.adapter.snapshot(plan.target), timeout=2 * timeout_s)
    except AdapterError as exc:
        message = plan.target.redact(exc.message)
        raise CameraFailed(exc.http_status, exc.code, exc.title, message) from None
    except TimeoutError:
        detail = f"the camera gave no picture within {2 * timeout_s:g} s"
        raise CameraFailed(504, "timeout", "The camera did not answer in time", detail) from None


@snapshot_router.get(
    "/cameras/{camera_id:uuid}/snapshot",
    response_class=Response,
    responses={
        200: {"description": "A JPEG taken now", "content": {JPEG: {}}},
        **problem_responses(401, 403, 404, 409, 422, 502, 503, 504),
    },
)
async def camera_snapshot(
    camera_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    box: BoxDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> Response:
    """A still image taken now through the camera's adapter.

    For public cameras and enrolled cameras whose owner allows live view at any time;
    403 names the consent that is missing. 502/504 when the camera fails or is silent, with
    the adapter's code as the problem type.
    """
    adapters: AdapterRegistry = request.app.state.adapters
    timeout_s = settings.probe_timeout_s
    plan = await run_in_threadpool(_plan, session, camera_id, principal, box, adapters, timeout_s)
    image = await _take(plan, timeout_s)
    return Response(image, media_type=JPEG, headers={"Cache-Control": "no-store"})
