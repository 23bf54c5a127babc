"""Traffic statistics: counts of line crossings by camera, line, direction, class and interval,
and their sum on an H3 grid for the map."""

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.analytics import ObjectClass
from schemas.events import UtcTimestamp
from schemas.scalars import JSON_INTEGER


class Interval(StrEnum):
    QUARTER_HOUR = "15min"
    HOUR = "hour"
    DAY = "day"


class Source(StrEnum):
    LINES = "lines"  # line crossings of the analytics rules
    PLATES = "plates"  # plate reads: one per vehicle a plate camera saw


Count = Annotated[int, Field(ge=0), JSON_INTEGER]


class TrafficBucket(BaseModel):
    model_config = ConfigDict(frozen=True)

    camera_id: UUID
    start: UtcTimestamp = Field(description="Start of the interval, UTC")
    line: str | None = Field(description="The counting line's id (null for plate reads)")
    direction: str | None = Field(description="forward or backward along the line")
    object_class: ObjectClass | None
    count: Count


class TrafficStats(BaseModel):
    model_config = ConfigDict(frozen=True)

    interval: Interval
    source: Source
    start: UtcTimestamp
    end: UtcTimestamp
    total: Count
    buckets: list[TrafficBucket] = Field(description="Ordered by start, then camera")


class HexProperties(BaseModel):
    model_config = ConfigDict(frozen=True)

    cell: str = Field(description="H3 cell index")
    resolution: Annotated[int, Field(ge=0, le=15), JSON_INTEGER]
    count: Count
    cameras: Count
    by_class: dict[ObjectClass, Count]


class HexGeometry(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[list[float]]]


class HexFeature(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: HexGeometry
    properties: HexProperties


class HexCollection(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[HexFeature]
