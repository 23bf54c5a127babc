"""Request and answer bodies of the planning API."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.geo import AreaGeometry, Point
from schemas.scalars import NO_NUL_PATTERN


class Candidates(StrEnum):
    DEMAND = "demand"  # the demand points in the area
    GRID = "grid"  # a square grid over the area, every grid_m
    SITES = "sites"  # the points given in `sites`


class Objective(StrEnum):
    DEMAND = "demand"  # demand weight first, covered area breaks ties
    AREA = "area"  # covered area first, demand weight breaks ties


class AreaBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization: str | None = Field(
        default=None,
        max_length=200,
        pattern=NO_NUL_PATTERN,
        description="Slug or id of the organization whose jurisdiction is the area",
    )
    area: AreaGeometry | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon (EPSG:4326)"
    )

    def area_geojson(self) -> dict[str, Any] | None:
        return self.area.model_dump() if self.area is not None else None


class RedundantBody(AreaBody):
    share: float | None = Field(default=None, gt=0, le=1)


class SurveyBody(AreaBody):
    older_than_years: int = Field(default=10, ge=0, le=100)


class PlanRequest(AreaBody):
    k: int = Field(ge=1, le=1000, description="How many cameras to place (new or moved)")
    candidates: Candidates = Candidates.GRID
    grid_m: float | None = Field(default=None, ge=5, le=10_000)
    sites: list[Point] | None = Field(
        default=None, max_length=100_000, description="Candidate sites, for candidates=sites"
    )
    relocate: bool = Field(
        default=False, description="Move redundant cameras first, before proposing new ones"
    )
    share: float | None = Field(
        default=None, gt=0, le=1, description="Redundancy share (relocate); default setting"
    )
    unit_price: float | None = Field(default=None, ge=0)
    range_m: float | None = Field(default=None, gt=0, le=2000)
    fov_deg: float | None = Field(default=None, gt=0, le=360)
    objective: Objective = Objective.DEMAND


class AssumedViews(BaseModel):
    count: int
    camera_ids: list[uuid.UUID] = Field(description="At most the first 100")


class RedundantCamera(BaseModel):
    camera_id: uuid.UUID
    name: str | None
    owner: str
    location: tuple[float, float]
    share: float = Field(description="Share of its view the other cameras cover, 0..1")
    covered_by: list[uuid.UUID]
    movable: bool = Field(
        description="True when it can be moved together with every movable camera listed "
        "before it and the ones that stay still cover `share` of its view"
    )
    assumed_360: bool


class RedundantAnswer(BaseModel):
    area: str
    share: float
    cameras: int = Field(description="Cameras standing in the area")
    redundant: list[RedundantCamera]
    assumed_360: AssumedViews


class PlanSummary(BaseModel):
    id: uuid.UUID
    created_at: datetime
    params: dict[str, Any]
    totals: dict[str, Any]
    href: str = Field(description="The plan as GeoJSON")
