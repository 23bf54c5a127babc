"""Hotlists, the alerts they raise, and plate-read search results.

A hotlist entry names a plate on a black list (wanted, stolen, watched: reads raise alerts) or a
white list (emergency, municipal fleet, resident exempt: reads are exempt from enforcement).
Its `tolerance` says how a read may differ: `exact`, or `confusable`, where the characters OCR
mixes up (0/O, 8/B, 1/I, 5/S, 2/Z) count as equal.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from schemas.analytics import PlateRead, PlateText
from schemas.events import UtcTimestamp
from schemas.geo import Point, Position
from schemas.scalars import JSON_INTEGER, NO_NUL_PATTERN


class ListKind(StrEnum):
    BLACK = "black"  # reads raise alerts
    WHITE = "white"  # reads are exempt from enforcement and suppress black-list alerts


class Category(StrEnum):
    WANTED = "wanted"
    STOLEN = "stolen"
    WATCHED = "watched"
    EMERGENCY = "emergency"
    MUNICIPAL_FLEET = "municipal_fleet"
    RESIDENT_EXEMPT = "resident_exempt"

    @property
    def kind(self) -> ListKind:
        return CATEGORY_KIND[self]


CATEGORY_KIND: dict[Category, ListKind] = {
    Category.WANTED: ListKind.BLACK,
    Category.STOLEN: ListKind.BLACK,
    Category.WATCHED: ListKind.BLACK,
    Category.EMERGENCY: ListKind.WHITE,
    Category.MUNICIPAL_FLEET: ListKind.WHITE,
    Category.RESIDENT_EXEMPT: ListKind.WHITE,
}


class Tolerance(StrEnum):
    EXACT = "exact"
    CONFUSABLE = "confusable"  # 0/O, 8/B, 1/I, 5/S, 2/Z count as the same character


Priority = Annotated[int, Field(ge=1, le=5, description="1 most urgent .. 5 least"), JSON_INTEGER]
Note = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL_PATTERN)]
Agency = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
Source = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/-]*$",
        description='Where the entry comes from, e.g. "national-police-2026-11"',
    ),
]


class HotlistEntryCreate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    plate: PlateText = Field(description="Normalized: upper case, no separators")
    category: Category
    reason: Note
    legal_basis: Note
    priority: Priority = 3
    valid_from: UtcTimestamp | None = Field(default=None, description="Null: from now")
    valid_until: UtcTimestamp | None = Field(default=None, description="Null: until removed")
    source: Source
    tolerance: Tolerance = Tolerance.EXACT
    issuing_agency: Agency | None = Field(
        default=None, description="Who issued the entry; null: this node's name"
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise ValueError("valid_until must be after valid_from")
        return self


class HotlistEntryUpdate(BaseModel):
    """A change to an entry issued here; only the fields given change (`valid_until: null`
    makes it open-ended). Plate and category are the entry's identity: for another plate or
    list, add an entry and delete this one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Absent (or null, which the schema does not offer) leaves a field as it is; only
    # valid_until takes null as a value.
    reason: Note | SkipJsonSchema[None] = None
    legal_basis: Note | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None
    valid_until: UtcTimestamp | None = Field(default=None, description="null: until removed")
    tolerance: Tolerance | SkipJsonSchema[None] = None
    issuing_agency: Agency | SkipJsonSchema[None] = None


class HotlistEntryOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    plate: PlateText
    kind: ListKind
    category: Category
    reason: str
    legal_basis: str
    priority: int
    valid_from: UtcTimestamp
    valid_until: UtcTimestamp | None
    source: str
    tolerance: Tolerance
    created_at: UtcTimestamp
    issuing_agency: str | None = None
    origin_node_id: UUID | None = Field(
        default=None,
        description="The peer node that published the entry; null: issued here. A federated "
        "entry changes only when its issuer updates or revokes it",
    )


class HotlistEntryPage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[HotlistEntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")


class AlertKind(StrEnum):
    HOTLIST_MATCH = "hotlist_match"


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class AlertOut(BaseModel):
    """A black-list hit: the read (its plate, camera, time, evidence) and the entry it hit.
    An alert a peer raised has no `camera_id` here (the camera is in the peer's registry) but
    names its camera and position, and `origin_node_id` says which node raised it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    kind: AlertKind
    state: AlertState
    priority: int
    plate: str = Field(description="The plate as read")
    camera_id: UUID | None = Field(description="This node's camera; null: a peer's camera")
    camera_name: str | None = None
    position: Point | None = Field(default=None, description="Where the plate was read")
    origin_node_id: UUID | None = Field(
        default=None, description="The peer node that raised the alert; null: raised here"
    )
    entry_origin_node: UUID | None = Field(
        default=None, description="The peer node that issued the entry; null: this node"
    )
    read_id: UUID
    read_at: UtcTimestamp
    evidence: str | None = Field(description="Reference to the stored plate crop")
    entry_id: UUID | None = Field(description="The hotlist entry; null once it was deleted")
    entry_plate: str
    category: Category
    reason: str
    created_at: UtcTimestamp
    acknowledged_at: UtcTimestamp | None
    closed_at: UtcTimestamp | None = None


class AlertPage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[AlertOut]
    next_cursor: str | None


class StoredPlateRead(PlateRead):
    """A stored read: white-listed plates are exempt from enforcement."""

    enforcement_exempt: bool = False


class PlateReadStored(BaseModel):
    """What posting a read did: the read as stored and the alerts it raised. Posting the same
    read again (same id) stores nothing new: `duplicate` is true and `alert_ids` empty."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    read: StoredPlateRead
    duplicate: bool
    exempt: bool = Field(description="A white-list entry matched: exempt from enforcement")
    alert_ids: list[UUID]


class PlateReadPage(BaseModel):
    """One page of plate reads, newest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[StoredPlateRead]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next, older page")


class LineString(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["LineString"]
    coordinates: list[Position] = Field(min_length=2)


class Sighting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    read_id: UUID
    camera_id: UUID
    read_at: UtcTimestamp
    plate: str
    position: Position


class RouteProperties(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    plate: str
    sightings: list[Sighting] = Field(description="Oldest first; reads without a position left out")
    first_seen: datetime | None
    last_seen: datetime | None


class RouteFeature(BaseModel):
    """A vehicle's path across cameras as a GeoJSON Feature. The geometry is null with fewer
    than two sightings, since a LineString needs two positions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: LineString | None
    properties: RouteProperties
