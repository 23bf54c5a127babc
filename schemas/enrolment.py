"""Enrolments: a business offers its own cameras to the node under a consent tier.

Privacy masks are polygons in normalized image coordinates ([x, y], 0..1, origin top left).
Whatever records, shows or analyses frames of an enrolled camera must black them out first
(issue 4 applies them); the hub stores and returns them unchanged.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from schemas.camera import Credentials, FieldOfView, Heading, Range, RetentionDays
from schemas.enums import AdapterKind
from schemas.geo import Point
from schemas.scalars import NO_NUL_PATTERN, StreamUri


class ConsentTier(StrEnum):
    """What the business allows, each tier including the ones before it."""

    REGISTRY_ONLY = "registry_only"  # on the map; the node never connects to it
    ON_REQUEST = "on_request"  # footage shared per request
    LIVE_ON_ALARM = "live_on_alarm"  # live view while an alert is raised near it
    LIVE_ALWAYS = "live_always"


class EnrolmentState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


Coordinate = Annotated[float, Field(strict=True, ge=0, le=1)]
MaskPoint = Annotated[
    list[Coordinate],
    Field(min_length=2, max_length=2, description="[x, y]: fractions of width and height"),
]


def _distinct_points(points: list[list[float]]) -> list[list[float]]:
    if len({(x, y) for x, y in points}) != len(points):
        raise ValueError("mask points must be distinct; send the polygon open (no closing point)")
    return points


Mask = Annotated[
    list[MaskPoint],
    Field(
        min_length=3,
        max_length=64,
        json_schema_extra={"uniqueItems": True},
        description="Polygon, open (the last point joins the first), 3 to 64 distinct points",
    ),
    AfterValidator(_distinct_points),
]
Masks = Annotated[
    list[Mask],
    Field(max_length=32, description="Areas of the image that must be blacked out"),
]
Text = Annotated[str, Field(min_length=1, max_length=1000, pattern=NO_NUL_PATTERN)]


class EnrolmentCreate(BaseModel):
    """A business's camera and the terms under which it shares it."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    location: Point
    name: str | None = Field(default=None, max_length=200, pattern=NO_NUL_PATTERN)
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NO_NUL_PATTERN,
        description="The business's own reference; unique within the business",
    )
    heading_deg: Heading | None = None
    fov_deg: FieldOfView | None = None
    range_m: Range | None = None
    adapter: AdapterKind = Field(
        default=AdapterKind.NONE, description="How the node talks to it; none: it is not probed"
    )
    stream_uri: StreamUri | None = None
    snapshot_uri: StreamUri | None = None
    credentials: Credentials | None = None
    consent_tier: ConsentTier
    retention_days: RetentionDays | None = Field(
        default=None, description="Days the business keeps footage; copied to the camera"
    )
    privacy_masks: Masks = Field(default_factory=list)


class ConsentChange(BaseModel):
    """A new tier. Lowering takes effect at once; raising waits for an operator's approval
    while the tier granted so far stays in force."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    consent_tier: ConsentTier


class Approve(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: Literal["approve"]
    reason: Text | None = None


class Reject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: Literal["reject"]
    reason: Text = Field(description="Shown to the business")


ReviewDecision = Annotated[Approve | Reject, Field(discriminator="decision")]


class EnrolmentProbe(BaseModel):
    """The probe the node ran on the submitted camera."""

    job_id: UUID
    state: Literal["queued", "running", "succeeded", "failed"]
    error_code: str | None = Field(description="Why it failed, e.g. connection_refused")


class EnrolmentOut(BaseModel):
    """An enrolment as the API shows it; camera credentials are never part of it."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    camera_id: UUID
    org_id: UUID
    state: EnrolmentState
    consent_tier: ConsentTier = Field(
        description="The tier in force once approved (the one asked for while submitted)"
    )
    requested_tier: ConsentTier | None = Field(
        description="A higher tier awaiting an operator's approval"
    )
    pending_review: bool = Field(description="An operator has a decision to make")
    retention_days: int | None
    privacy_masks: list[list[list[float]]]
    submitted_at: datetime
    reviewed_at: datetime | None
    reviewed_by: UUID | None = Field(description="Token id of the reviewer")
    decision_reason: str | None
    withdrawn_at: datetime | None
    probe: EnrolmentProbe | None = Field(description="null when there was nothing to probe")
