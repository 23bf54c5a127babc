"""Probe API: ask a worker to probe a registered camera, then read the job's state and result."""

import logging
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Response

from hub.deps import WRITERS, PrincipalDep, SessionDep, require
from hub.enrolment.rules import Use
from hub.errors import ProblemError, problem_responses
from hub.registry import consent
from hub.registry import probe as probe_service
from hub.registry.probe import ProbeJobOut, ProbeState, job_out
from hub.registry.tasks import probe_camera as probe_task
from hub.worker import PROBE_QUEUE, PUBLISH_RETRY

log = logging.getLogger(__name__)

probe_router = APIRouter(tags=["probes"], responses=problem_responses(401, 403, 404, 422))


class QueueUnavailable(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "queue-unavailable",
            "Task queue unavailable",
            "The node could not queue the probe (message broker down); try again later.",
        )


@probe_router.post(
    "/cameras/{camera_id:uuid}/probe",
    response_model=ProbeJobOut,
    status_code=202,
    responses={
        **problem_responses(409),
        503: {
            "description": "Task queue unavailable",
            "content": problem_responses(409)[409]["content"],
        },
    },
)
def probe_camera(
    camera_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> ProbeJobOut:
    """Queue a probe of the camera; follow the job at the Location header until it finishes.

    A worker asks the camera who it is and what it offers through the camera's adapter, then
    writes vendor, model, firmware, streams, snapshot URI, PTZ and status into the record.
    409 when the camera's adapter is `none` or it has no address; 403 when the camera is
    enrolled and its consent does not allow probes (registry_only, withdrawn).
    """
    require(principal, WRITERS, "probe cameras")
    camera = consent.visible_camera(session, camera_id, principal.org_scope)
    consent.require_use(session, camera, Use.PROBE, "probing it")
    job = probe_service.create_job(session, camera)
    # Committed before it is sent, so the worker always finds the job it is given.
    session.commit()
    try:
        probe_task.apply_async(
            args=[str(job.id)], queue=PROBE_QUEUE, retry=True, retry_policy=PUBLISH_RETRY
        )
    except Exception as exc:  # the broker is down or refused: say so, leave no queued ghost
        log.error("could not queue probe job %s: %s", job.id, type(exc).__name__)
        job.state = ProbeState.FAILED
        job.error_code = "queue_unavailable"
        job.error_message = "the node could not queue the probe"
        job.finished_at = datetime.now(UTC)
        session.commit()
        raise QueueUnavailable() from None
    response.headers["Location"] = f"/api/v1/probe-jobs/{job.id}"
    return job_out(job)


@probe_router.get("/probe-jobs/{job_id:uuid}", response_model=ProbeJobOut)
def get_probe_job(job_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> ProbeJobOut:
    """A probe job: queued, running, succeeded (with the result) or failed (with code and a
    safe message, e.g. connection_refused)."""
    return job_out(probe_service.get_job(session, job_id, principal.org_scope))
