"""Camera health: what a check observed, the state the hub concluded, and its changes.

A check observes; the hub concludes. One check's observation never changes a camera's status
by itself: a new status must hold through a grace period first (see `hub.health.rules`), so a
camera that drops one RTSP session does not page an operator.
"""

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.enums import CameraStatus
from schemas.events import UtcTimestamp
from schemas.scalars import JSON_INTEGER, NO_NUL_PATTERN


class CheckDepth(StrEnum):
    """How far a check may look: consent decides (an enrolled camera's tier)."""

    DECODE = "decode"  # open the stream, decode a window of frames, run the tamper checks
    REACHABILITY = "reachability"  # open the stream and read its description; no pictures


class Finding(StrEnum):
    """Why a check did not find the camera sound. Order of gravity: first listed wins."""

    UNREACHABLE = "unreachable"  # no answer, refused, timed out
    NO_PICTURE = "no_picture"  # reachable, but the stream does not decode
    DARK = "dark"  # covered, painted or lights off
    DEFOCUSED = "defocused"  # sharpness far below the camera's own baseline
    SCENE_CHANGED = "scene_changed"  # moved or obstructed: the scene no longer matches
    FROZEN = "frozen"  # the picture does not change: a stuck encoder or a replayed loop


TAMPER_FINDINGS = frozenset({Finding.DARK, Finding.DEFOCUSED, Finding.SCENE_CHANGED})


class Measures(BaseModel):
    """The tamper checks' measures on the last window (see `adapters.tamper`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    mean_luminance: float | None = None
    luminance_std: float | None = None
    sharpness: float | None = None
    sharpness_ratio: float | None = Field(default=None, description="Sharpness / baseline")
    scene_similarity: float | None = Field(default=None, description="-1..1 vs the reference")
    frame_change: float | None = Field(default=None, description="Median mean |difference|")


class CheckResult(BaseModel):
    """One health check of one camera."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    checked_at: UtcTimestamp
    depth: CheckDepth
    observed: CameraStatus = Field(description="The status this check alone points to")
    findings: list[Finding] = Field(default_factory=list, max_length=8)
    error_code: str | None = Field(
        default=None, max_length=64, description="The adapter's code when the check failed"
    )
    message: str | None = Field(
        default=None,
        max_length=500,
        pattern=NO_NUL_PATTERN,
        description="Safe to show; never holds credentials",
    )
    measures: Measures | None = None
    duration_ms: Annotated[int, Field(ge=0), JSON_INTEGER]


class HealthChange(BaseModel):
    """A confirmed change of a camera's status: kept as history, published as an event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    camera_id: UUID
    occurred_at: UtcTimestamp = Field(description="When the new status was confirmed")
    previous: CameraStatus
    status: CameraStatus
    findings: list[Finding] = Field(default_factory=list, max_length=8)


class PendingChange(BaseModel):
    """A status seen but not yet confirmed (within the grace period)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: CameraStatus
    since: UtcTimestamp
    checks: Annotated[int, Field(ge=1), JSON_INTEGER]


class CameraHealthOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    camera_id: UUID
    status: CameraStatus
    since: UtcTimestamp | None = Field(description="When the current status was confirmed")
    enabled: bool = Field(description="Whether the sweep checks this camera")
    depth: CheckDepth | None = Field(
        description="How far checks may look; null when consent allows no check at all"
    )
    interval_s: Annotated[int, Field(ge=10, le=86_400), JSON_INTEGER]
    next_check_at: UtcTimestamp | None
    baseline_set: bool = Field(description="Sharpness baseline and reference scene recorded")
    pending: PendingChange | None
    last_check: CheckResult | None
    history: list[HealthChange] = Field(description="Newest first")


class HealthSettingsUpdate(BaseModel):
    """What an operator may change about a camera's checks."""

    model_config = ConfigDict(extra="forbid", strict=True)

    enabled: bool | None = None
    interval_s: Annotated[int, Field(ge=10, le=86_400), JSON_INTEGER] | None = None


class Neighbour(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    camera_id: UUID
    name: str | None
    owner_id: UUID
    distance_m: float
    status: CameraStatus
    since: UtcTimestamp | None = Field(description="When its current status was confirmed")


class NeighboursOut(BaseModel):
    """The cameras around one spot and their state: several going dark at once is an attack
    pattern, not bad luck."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    camera_id: UUID
    radius_m: float
    window_s: Annotated[int, Field(ge=1), JSON_INTEGER] = Field(
        description="How recent a loss counts towards `lost_recently`"
    )
    counts: dict[CameraStatus, int] = Field(description="Neighbours by status, itself included")
    lost_recently: Annotated[int, Field(ge=0), JSON_INTEGER] = Field(
        description="Cameras here (itself included) that went offline or tampered in the window"
    )
    suspected_attack: bool = Field(
        description="At least `attack_threshold` cameras here were lost within the window"
    )
    attack_threshold: Annotated[int, Field(ge=2), JSON_INTEGER]
    neighbours: list[Neighbour] = Field(description="Nearest first, itself excluded")
