"""Analytics vocabulary: what a camera's pictures are turned into (detections, tracks, plate
reads) and the rules operators draw on them (zones, lines), per camera.

Image geometry is normalized: x and y are fractions of the frame's width and height (0..1,
origin top left, y down), so a zone drawn on a snapshot holds for every stream resolution.
"""

from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.events import UtcTimestamp
from schemas.geo import Point
from schemas.scalars import JSON_INTEGER, NO_NUL_PATTERN, Flag


class ObjectClass(StrEnum):
    """What the detectors report (the COCO classes the cities' analytics use)."""

    PERSON = "person"
    BICYCLE = "bicycle"
    CAR = "car"
    MOTORCYCLE = "motorcycle"
    BUS = "bus"
    TRUCK = "truck"


VEHICLE_CLASSES = frozenset(
    {
        ObjectClass.CAR,
        ObjectClass.BUS,
        ObjectClass.TRUCK,
        ObjectClass.MOTORCYCLE,
        ObjectClass.BICYCLE,
    }
)


class Colour(StrEnum):
    """The named palette a vehicle's dominant colour is reported in."""

    WHITE = "white"
    SILVER = "silver"
    GREY = "grey"
    BLACK = "black"
    RED = "red"
    BLUE = "blue"
    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    BROWN = "brown"


class Direction(StrEnum):
    """Which way an object crossed a line drawn from `start` to `end`: `forward` from the
    line's left to its right as seen walking from start to end (on the image, y down)."""

    FORWARD = "forward"
    BACKWARD = "backward"


Coordinate = Annotated[float, Field(strict=True, ge=0, le=1)]
ImagePoint = Annotated[
    list[Coordinate],
    Field(min_length=2, max_length=2, description="[x, y] as fractions of width and height"),
]
Slug = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Confidence = Annotated[float, Field(strict=True, ge=0, le=1)]
Seconds = Annotated[float, Field(strict=True, gt=0, le=86_400)]


class Box(BaseModel):
    """An axis-aligned box: top-left corner and size, as fractions of the frame."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    x: Coordinate
    y: Coordinate
    w: Coordinate
    h: Coordinate

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom centre: where a person or vehicle stands, the point zones and lines test."""
        return self.x + self.w / 2, self.y + self.h


class Detection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    object_class: ObjectClass
    confidence: Confidence
    box: Box


class TrackedObject(BaseModel):
    """A detection the tracker followed: `track_id` stays the same for the same object across
    the frames of one camera's stream."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    track_id: Annotated[int, Field(ge=0), JSON_INTEGER]
    object_class: ObjectClass
    confidence: Confidence
    box: Box


class Zone(BaseModel):
    """A polygon on the image and what to watch in it. Leave a threshold null to skip that
    rule: presence events fire whenever a watched object enters."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: Slug
    polygon: list[ImagePoint] = Field(min_length=3, max_length=64)
    classes: list[ObjectClass] = Field(
        default_factory=list, description="Watched classes; empty watches every class"
    )
    dwell_s: Seconds | None = Field(
        default=None, description="Loitering: an object staying longer than this"
    )
    max_count: Annotated[int, Field(ge=1, le=10_000), JSON_INTEGER] | None = Field(
        default=None, description="Crowding: more watched objects than this at once"
    )
    missing_after_s: Seconds | None = Field(
        default=None,
        description="Missing object: something that stood in the zone when the reference "
        "was taken is gone for longer than this",
    )


class Line(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: Slug
    start: ImagePoint
    end: ImagePoint
    classes: list[ObjectClass] = Field(default_factory=list)
    forward_name: str | None = Field(
        default=None,
        max_length=63,
        pattern=NO_NUL_PATTERN,
        description='What `forward` means here, e.g. "northbound" or "entering"',
    )
    backward_name: str | None = Field(default=None, max_length=63, pattern=NO_NUL_PATTERN)

    @model_validator(mode="after")
    def _has_length(self) -> Self:
        if self.start == self.end:
            raise ValueError("a line needs two different points")
        return self


class DetectorBackend(StrEnum):
    ONNX = "onnx"  # onnxruntime on CPU: yolox_nano.onnx
    ULTRALYTICS = "ultralytics"  # any model the ultralytics package loads (.pt, .onnx, .tflite)


class AnalyticsSettings(BaseModel):
    """What a camera's stream is analysed for. Stored per camera; workers read it per job."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    enabled: Flag = False
    fps: float = Field(
        default=2.0, strict=True, gt=0, le=30, description="Frames analysed per second"
    )
    backend: DetectorBackend = DetectorBackend.ONNX
    model: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="A model file in the node's models directory; null: the backend's default",
    )
    input_size: Annotated[int, Field(ge=160, le=1280, multiple_of=32), JSON_INTEGER] = 416
    confidence: float = Field(default=0.35, strict=True, ge=0.05, le=0.95)
    classes: list[ObjectClass] = Field(default_factory=lambda: list(ObjectClass))
    zones: list[Zone] = Field(default_factory=list, max_length=32)
    lines: list[Line] = Field(default_factory=list, max_length=32)
    plates: Flag = Field(default=False, description="Read licence plates of vehicles")
    vehicle_attributes: Flag = Field(default=False, description="Vehicle class and colour")
    plate_region: str | None = Field(
        default=None,
        max_length=16,
        pattern=r"^[a-z]{2}(-[a-z0-9]{1,8})?$",
        description='Plate format used to resolve ambiguous characters, e.g. "bg", "ua"',
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        for kind, ids in (
            ("zone", [z.id for z in self.zones]),
            ("line", [x.id for x in self.lines]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{kind} ids must be unique on a camera")
        return self


PlateText = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9]+$")]


class PlateRead(BaseModel):
    """One plate read by a camera, as stored and searched."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: UUID
    camera_id: UUID
    read_at: UtcTimestamp
    plate: PlateText = Field(description="Normalized: upper case, no separators")
    raw_text: str | None = Field(default=None, max_length=32, pattern=NO_NUL_PATTERN)
    confidence: Confidence
    region: str | None = Field(default=None, max_length=16)
    vehicle_class: ObjectClass | None = None
    colour: Colour | None = None
    direction: Direction | None = None
    track_id: Annotated[int, Field(ge=0), JSON_INTEGER] | None = None
    box: Box | None = Field(default=None, description="The plate in the frame")
    evidence: str | None = Field(
        default=None, max_length=500, description="Reference to the stored plate crop"
    )
    location: Point | None = Field(default=None, description="The camera's position")


class ArmedReference(BaseModel):
    """An object that stood in a zone when the missing-object reference was taken. It is
    reported missing once gone from the zone for the zone's `missing_after_s`, and then no
    longer listed."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    zone_id: Slug
    track_id: Annotated[int, Field(ge=0), JSON_INTEGER]
    object_class: ObjectClass
    box: Box
    taken_at: UtcTimestamp


class AnalyticsReference(BaseModel):
    """A camera's missing-object reference: the objects armed, and whether a new reference was
    asked for that the analysis has not taken yet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pending: bool = Field(description="A new reference is asked for and not taken yet")
    requested_at: UtcTimestamp | None = Field(
        default=None, description="When the pending reference was asked for"
    )
    references: list[ArmedReference] = Field(
        default_factory=list, description="The objects armed by the last reference taken"
    )
