"""Pure health rules: what a check's findings mean, and when a new status is confirmed.

No I/O: the sweep feeds observations in and stores what comes out.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from schemas.enums import CameraStatus
from schemas.health import TAMPER_FINDINGS, Finding

# Adapter error codes that mean the camera could not be reached at all. Any other failure
# (wrong credentials, no such stream, a malformed answer) reached a device that gave no picture.
UNREACHABLE_CODES = frozenset({"unreachable", "connection_refused", "timeout"})


def finding_for_error(code: str) -> Finding:
    return Finding.UNREACHABLE if code in UNREACHABLE_CODES else Finding.NO_PICTURE


def classify(findings: Iterable[Finding]) -> CameraStatus:
    """The status one check's findings point to; the gravest finding decides."""
    found = set(findings)
    if Finding.UNREACHABLE in found:
        return CameraStatus.OFFLINE
    if found & TAMPER_FINDINGS:
        return CameraStatus.TAMPERED
    if found:  # no picture, or a frozen one: the camera answers but does not watch
        return CameraStatus.DEGRADED
    return CameraStatus.ONLINE


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Findings without repeats, gravest first (the order `Finding` lists them in)."""
    found = set(findings)
    return [finding for finding in Finding if finding in found]


@dataclass(frozen=True, slots=True)
class Grace:
    """A new status is confirmed once seen in `checks` consecutive checks spanning at least
    `seconds`. Both bounds: a fast interval alone would confirm a blip, a slow one alone would
    wait for many minutes of evidence."""

    checks: int = 2
    seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.checks < 1 or self.seconds < 0:
            raise ValueError("grace needs at least one check and non-negative seconds")


@dataclass(frozen=True, slots=True)
class Tracker:
    """A camera's confirmed status and the candidate that may replace it."""

    status: CameraStatus
    since: datetime | None = None
    candidate: CameraStatus | None = None
    candidate_since: datetime | None = None
    candidate_checks: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    tracker: Tracker
    changed_from: CameraStatus | None  # the previous status when this step confirmed a change


def advance(tracker: Tracker, observed: CameraStatus, at: datetime, grace: Grace) -> Step:
    """Feed one check's observed status in. A camera never confirmed (unknown) takes the first
    observation at once: there is nothing to flap from."""
    if observed is tracker.status:
        return Step(Tracker(status=tracker.status, since=tracker.since), None)
    if tracker.status is CameraStatus.UNKNOWN:
        return Step(Tracker(status=observed, since=at), tracker.status)
    if observed is tracker.candidate and tracker.candidate_since is not None:
        candidate = replace(tracker, candidate_checks=tracker.candidate_checks + 1)
    else:
        candidate = replace(tracker, candidate=observed, candidate_since=at, candidate_checks=1)
    assert candidate.candidate_since is not None
    held = (at - candidate.candidate_since).total_seconds()
    if candidate.candidate_checks >= grace.checks and held >= grace.seconds:
        return Step(Tracker(status=observed, since=at), tracker.status)
    return Step(candidate, None)


def should_learn_baseline(findings: Iterable[Finding], has_baseline: bool) -> bool:
    """A camera without a baseline learns one from its first sound decoded window. A camera
    tampered at that moment learns a wrong one: an operator resets it once the view is right."""
    return not has_baseline and not list(findings)
