"""The registry under consent: what it shows of an enrolled camera and does with it.

The hub never exceeds the tier granted (hub.enrolment.rules). A camera whose enrolment does
not permit the map (rejected, withdrawn) does not exist for anyone but its owning business;
an enrolled camera's addresses are the business's alone; probes and live snapshots need the
tier that grants them. Cameras without an enrolment (public bodies) are not affected.

Not imported by hub.registry.cameras: hub.enrolment.service imports that module.
"""

import uuid

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from hub.enrolment.models import Enrolment
from hub.enrolment.rules import Use
from hub.enrolment.service import Access, access_for, permits_clause
from hub.errors import Conflict, Forbidden, NotFound
from hub.registry.cameras import get_camera
from hub.registry.models import Camera
from schemas.enrolment import ConsentTier, EnrolmentState


def on_map(scope: uuid.UUID | None) -> list[ColumnElement[bool]]:
    """Extra conditions on Camera for a caller with `scope`. A business is already held to its
    own cameras, which it always sees; node-wide callers see only cameras on the map."""
    return [] if scope is not None else [permits_clause(Use.MAP)]


def addresses_shown(viewer: ColumnElement[uuid.UUID | None]) -> ColumnElement[bool]:
    """True where `viewer` may read the camera's addresses: it is not enrolled, or the viewer
    is its owning business. No tier grants others a way in: live view goes through the hub."""
    enrolled = select(Enrolment.id).where(Enrolment.camera_id == Camera.id).exists()
    return ~enrolled | (Camera.owner_id == viewer)


def visible_camera(session: Session, camera_id: uuid.UUID, scope: uuid.UUID | None) -> Camera:
    """A camera the caller may see; otherwise 404, as for a camera that does not exist."""
    camera = get_camera(session, camera_id, scope)
    if scope is None and not access_for(session, camera_id).permits(Use.MAP):
        raise NotFound("Camera", camera_id)
    return camera


def refuse_change_after_consent_ended(session: Session, camera_id: uuid.UUID) -> None:
    """A withdrawn or rejected camera is kept as a record of the decision, not changed."""
    access = access_for(session, camera_id)
    if access.state in (EnrolmentState.WITHDRAWN, EnrolmentState.REJECTED):
        raise Conflict(
            f"This camera's consent was {access.state.value}; enrol it again "
            "(POST /api/v1/enrolments) to use it."
        )


_TIER_REASONS = {
    ConsentTier.REGISTRY_ONLY: "its owner consented to the registry only: the node never "
    "connects to it",
    ConsentTier.ON_REQUEST: "its owner shares footage on request only, with no live access",
    ConsentTier.LIVE_ON_ALARM: "live view is granted only during an alert near the camera, "
    "and none is active",
    ConsentTier.LIVE_ALWAYS: "its owner's consent does not cover this",
}


def refusal(access: Access, what: str) -> str:
    """Why `what` is refused under this enrolment, naming the tier and state."""
    assert access.tier is not None and access.state is not None
    if access.state is EnrolmentState.APPROVED:
        why = _TIER_REASONS[access.tier]
    elif access.state is EnrolmentState.SUBMITTED:
        why = "the enrolment awaits an operator's review"
    else:
        why = f"the consent was {access.state.value}"
    return (
        f"The camera is enrolled ({access.state.value}, tier {access.tier.value}); "
        f"{what} is not allowed: {why}."
    )


def require_use(session: Session, camera: Camera, use: Use, what: str) -> None:
    """403 unless the camera's enrolment permits `use` now (no alert is ever active yet)."""
    access = access_for(session, camera.id)
    if not access.permits(use, alert_nearby=False):
        raise Forbidden(refusal(access, what))
