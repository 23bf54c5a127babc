"""What the node may do with a camera, given its enrolment: pure, no I/O.

A camera without an enrolment belongs to a public body and everything is allowed. An enrolled
camera grants only what its business consented to, and only once an operator approved it:

- submitted: on the map and probed (so the operator can judge it), nothing else;
- approved: its tier (each tier includes the ones below it):
    registry_only   on the map; the node never connects to it
    on_request      + probes, reachability checks, footage on request
    live_on_alarm   + live view while an alert is raised near it
    live_always     + live view, frame-decoding health checks and analytics at any time
- rejected, withdrawn: nothing, not even the map.

Decoding frames (health checks, analytics) is seeing the picture, so it needs standing live
consent.
"""

from enum import StrEnum

from schemas.enrolment import ConsentTier, EnrolmentState


class Use(StrEnum):
    MAP = "map"
    PROBE = "probe"
    HEALTH_REACHABILITY = "health_reachability"
    HEALTH_DECODE = "health_decode"
    FOOTAGE_REQUEST = "footage_request"
    LIVE_VIEW = "live_view"
    ANALYTICS = "analytics"  # detection, tracking and plate reading on the live stream


_RANK = {tier: rank for rank, tier in enumerate(ConsentTier)}

# The lowest tier that grants each use on an approved enrolment (LIVE_VIEW: see permits).
_MINIMUM: dict[Use, ConsentTier] = {
    Use.MAP: ConsentTier.REGISTRY_ONLY,
    Use.PROBE: ConsentTier.ON_REQUEST,
    Use.HEALTH_REACHABILITY: ConsentTier.ON_REQUEST,
    Use.FOOTAGE_REQUEST: ConsentTier.ON_REQUEST,
    Use.LIVE_VIEW: ConsentTier.LIVE_ALWAYS,
    Use.HEALTH_DECODE: ConsentTier.LIVE_ALWAYS,
    Use.ANALYTICS: ConsentTier.LIVE_ALWAYS,
}
_WHILE_SUBMITTED = frozenset({Use.MAP, Use.PROBE})


def at_least(tier: ConsentTier, minimum: ConsentTier) -> bool:
    return _RANK[tier] >= _RANK[minimum]


def permits(
    tier: ConsentTier | None,
    state: EnrolmentState | None,
    use: Use,
    alert_nearby: bool = False,
) -> bool:
    """May the node put the camera to `use`? tier None: the camera is not enrolled."""
    if tier is None:
        return True
    if state is EnrolmentState.SUBMITTED:
        return use in _WHILE_SUBMITTED
    if state is not EnrolmentState.APPROVED:
        return False
    if use is Use.LIVE_VIEW and alert_nearby and tier is ConsentTier.LIVE_ON_ALARM:
        return True
    return at_least(tier, _MINIMUM[use])
