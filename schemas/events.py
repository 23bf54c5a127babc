"""Normalized camera events: what any adapter reports, whatever the camera speaks.

`EventKind` names what a camera (or its analytics) saw. Camera health (online, offline,
degraded, tampered) is deliberately not an event kind:

- `schemas.enums.CameraStatus` already names health states; one word per meaning.
- Health is concluded by the hub from probes and missed pulls, not reported by a camera, and
  carries other fields (previous status, reason). It gets its own contract in the health round.
- Adding a kind later is additive; removing one breaks stored events and peers. Start small.

`tamper` is the camera's own report (covered, moved, defocused); `CameraStatus.TAMPERED` is the
hub's conclusion, which may come from such events or from its own image checks.
"""

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from schemas.scalars import NO_NUL_PATTERN

_RFC3339_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")


def _timestamp_text(value: object) -> object:
    # A bare number, or a string of one (as query parameters are), would be read as epoch
    # seconds: ask for RFC 3339 instead.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339_START.match(value):
        raise ValueError("a timestamp is an RFC 3339 string such as 2026-11-21T05:30:00Z")
    return value


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcTimestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_text), AfterValidator(_to_utc)]
"""An RFC 3339 time with an offset, stored converted to UTC."""

ItemName = Annotated[str, Field(min_length=1, max_length=128, pattern=NO_NUL_PATTERN)]
ItemText = Annotated[str, Field(max_length=1024, pattern=NO_NUL_PATTERN)]
DataValue = ItemText | bool | int | float


class EventKind(StrEnum):
    MOTION = "motion"
    LINE_CROSSING = "line_crossing"
    INTRUSION = "intrusion"  # an object inside a watched field (ONVIF FieldDetector)
    TAMPER = "tamper"  # the camera reports being covered, moved or blurred
    PERSON = "person"
    VEHICLE = "vehicle"
    LOITERING = "loitering"  # an object stayed in a zone longer than its dwell time
    MISSING_OBJECT = "missing_object"  # something that stood in a zone is gone
    CROWDING = "crowding"  # more objects in a zone than its limit
    PLATE = "plate"  # a licence plate was read
    UNKNOWN = "unknown"  # a topic or class no parser understands; `raw` keeps the original


class NormalizedEvent(BaseModel):
    """One thing a camera reported, in the hub's words.

    Maps onto a CloudEvents 1.0 envelope (built elsewhere, when events leave the node):
    `id` -> `id`; the node, `camera_id` and `source` -> `source` (a URI reference such as
    `/cameras/<camera_id>/onvif`); `kind` -> `type` (`org.c4hub.camera.<kind>`);
    `occurred_at` -> `time`; everything else -> `data`. CloudEvents' own `subject` is a single
    string and is not our `subject` dict, which travels in `data`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: UUID = Field(
        default_factory=uuid4,
        description="Unique per event; consumers deduplicate redeliveries by it",
    )
    camera_id: UUID | None = Field(
        default=None, description="The registry camera; null until the hub fills it in"
    )
    kind: EventKind
    occurred_at: UtcTimestamp = Field(description="When the camera says it happened, UTC")
    active: bool | None = Field(
        default=None,
        description="State after the event (motion on/off); null for one-off events such as "
        "a line crossing, or when the camera removed the state",
    )
    initial: bool = Field(
        default=False,
        description="The camera reported its current state on subscribing (ONVIF "
        "PropertyOperation Initialized), not a change: update state, do not alert",
    )
    source: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_.-]*$",
        description='The adapter that produced the event, e.g. "onvif"',
    )
    topic: str = Field(
        min_length=1,
        max_length=1000,
        pattern=NO_NUL_PATTERN,
        description="The camera's own event name, e.g. the ONVIF topic "
        "tns1:RuleEngine/CellMotionDetector/Motion",
    )
    subject: dict[ItemName, ItemText] = Field(
        default_factory=dict,
        max_length=64,
        description="What the event is about: ONVIF source and key items such as "
        "VideoSourceConfigurationToken or Rule",
    )
    data: dict[ItemName, DataValue] = Field(
        default_factory=dict, max_length=64, description="The event's values (ONVIF data items)"
    )
    raw: str | None = Field(
        default=None,
        max_length=65536,
        description="The original message, kept only when the kind is unknown",
    )

    @model_validator(mode="after")
    def _raw_only_for_unknown(self) -> Self:
        # Known kinds are fully described by their fields; raw copies would only cost space.
        if self.raw is not None and self.kind is not EventKind.UNKNOWN:
            raise ValueError("raw is kept only for events of kind unknown")
        return self


class CameraEvent(NormalizedEvent):
    """A stored event as the API and the "events" exchange show it: the camera is known."""

    camera_id: UUID = Field(description="The registry camera")
    received_at: UtcTimestamp = Field(description="When the hub stored it, UTC")


class CameraEventPage(BaseModel):
    """One page of a camera's events, newest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[CameraEvent]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next, older page")
