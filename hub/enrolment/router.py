"""Enrolment API: businesses offer their cameras, operators review, businesses withdraw.

Thin: parse, check the role, call the service, commit.
"""

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from hub.auth.service import Principal
from hub.deps import BoxDep, PrincipalDep, SessionDep, require
from hub.enrolment import service
from hub.enrolment.models import Enrolment
from hub.errors import Forbidden, problem_responses
from hub.registry.probe import ProbeJob, ProbeState
from hub.registry.tasks import probe_camera as probe_task
from hub.worker import PROBE_QUEUE, PUBLISH_RETRY
from schemas.enrolment import (
    ConsentChange,
    EnrolmentCreate,
    EnrolmentOut,
    EnrolmentState,
    ReviewDecision,
)
from schemas.enums import Role

log = logging.getLogger(__name__)

REVIEWERS = frozenset({Role.ADMIN, Role.OPERATOR})

enrolments_router = APIRouter(
    prefix="/enrolments",
    tags=["enrolments"],
    responses=problem_responses(400, 401, 403, 404, 413, 422),
)


def _business_org(principal: Principal) -> uuid.UUID:
    """The caller's organization, when the caller is a business: consent is theirs to give."""
    if principal.role is not Role.BUSINESS or principal.organization_id is None:
        raise Forbidden(
            "Businesses enrol, change and withdraw their own cameras with a business token; "
            "register a public body's cameras with POST /api/v1/cameras."
        )
    return principal.organization_id


def _send_probe(session: Session, job: ProbeJob) -> None:
    """Queue the probe; if the broker is down, the submission stands and the job says so."""
    try:
        probe_task.apply_async(
            args=[str(job.id)], queue=PROBE_QUEUE, retry=True, retry_policy=PUBLISH_RETRY
        )
    except Exception as exc:  # broker down or refused: keep the enrolment, fail the job
        log.error("could not queue probe job %s: %s", job.id, type(exc).__name__)
        job.state = ProbeState.FAILED
        job.error_code = "queue_unavailable"
        job.error_message = "the node could not queue the probe; an operator can probe again"
        job.finished_at = datetime.now(UTC)
        session.commit()


def _out(session: Session, enrolment: Enrolment) -> EnrolmentOut:
    return service.enrolment_out(enrolment, service.probe_job(session, enrolment))


@enrolments_router.post(
    "", response_model=EnrolmentOut, status_code=201, responses=problem_responses(409)
)
def create_enrolment(
    data: EnrolmentCreate,
    response: Response,
    session: SessionDep,
    box: BoxDep,
    principal: PrincipalDep,
) -> EnrolmentOut:
    """Submit one of the business's cameras under a consent tier.

    The camera joins the registry (purpose private_premises, status unknown, credentials
    sealed) and the node probes it when it has an adapter and an address; an operator then
    approves or rejects. Until approved, the camera is on the map and nothing more. The
    `probe` field shows the probe job (follow it at /api/v1/probe-jobs/{job_id}); if the
    task queue is down the submission still stands and the job failed with
    `queue_unavailable`. 409 when the business already has a camera with this external_id.
    """
    org_id = _business_org(principal)
    enrolment, job = service.enrol(session, box, org_id, data)
    # Committed before the probe is sent, so the worker always finds the job it is given.
    session.commit()
    if job is not None:
        _send_probe(session, job)
    response.headers["Location"] = f"/api/v1/enrolments/{enrolment.id}"
    return service.enrolment_out(enrolment, job)


@enrolments_router.get("", response_model=list[EnrolmentOut])
def list_enrolments(
    session: SessionDep,
    principal: PrincipalDep,
    state: EnrolmentState | None = None,
    pending_review: Annotated[
        bool | None, Query(description="Only those an operator has (or has no) decision on")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[EnrolmentOut]:
    """Enrolments, newest first: a business sees its own, node-wide roles see all."""
    return service.list_enrolments(
        session, principal.org_scope, state, pending_review, limit, offset
    )


@enrolments_router.get("/{enrolment_id:uuid}", response_model=EnrolmentOut)
def get_enrolment(
    enrolment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> EnrolmentOut:
    """One enrolment: state, tier, masks, retention, the decision and the probe's outcome."""
    return _out(session, service.get_enrolment(session, enrolment_id, principal.org_scope))


@enrolments_router.post(
    "/{enrolment_id:uuid}/review", response_model=EnrolmentOut, responses=problem_responses(409)
)
def review_enrolment(
    enrolment_id: uuid.UUID,
    decision: ReviewDecision,
    session: SessionDep,
    principal: PrincipalDep,
) -> EnrolmentOut:
    """Approve or reject a submission, or a requested higher tier (operators and admins).

    A reason is required to reject; the business sees it. 409 when there is nothing to
    decide (already decided, or withdrawn).
    """
    require(principal, REVIEWERS, "review enrolments")
    enrolment = service.get_enrolment(session, enrolment_id, None, lock=True)
    service.review(session, enrolment, decision, principal.token_id)
    session.commit()
    return _out(session, enrolment)


@enrolments_router.patch(
    "/{enrolment_id:uuid}", response_model=EnrolmentOut, responses=problem_responses(409)
)
def change_consent(
    enrolment_id: uuid.UUID, data: ConsentChange, session: SessionDep, principal: PrincipalDep
) -> EnrolmentOut:
    """Change the consent tier (the owning business). A lower tier is in force at once; a
    higher one waits for an operator (`requested_tier`) while the current one stays in force.
    409 when the enrolment was rejected or withdrawn."""
    org_id = _business_org(principal)
    enrolment = service.get_enrolment(session, enrolment_id, org_id, lock=True)
    service.change_tier(session, enrolment, data.consent_tier)
    session.commit()
    return _out(session, enrolment)


@enrolments_router.post(
    "/{enrolment_id:uuid}/withdraw", response_model=EnrolmentOut, responses=problem_responses(409)
)
def withdraw_enrolment(
    enrolment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> EnrolmentOut:
    """Withdraw consent (the owning business), effective at once: the camera's credentials
    are erased and it is decommissioned, so the node no longer touches it. 409 when it is
    already withdrawn."""
    org_id = _business_org(principal)
    enrolment = service.get_enrolment(session, enrolment_id, org_id, lock=True)
    service.withdraw(session, enrolment)
    session.commit()
    return _out(session, enrolment)
