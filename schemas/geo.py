"""GeoJSON geometry contracts (RFC 7946), EPSG:4326 only.

Validation here is structural and numeric (ranges, closed rings, finite numbers); topological
validity (self-intersection) needs a geometry engine and is checked by the hub.
"""

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _check_position(pos: list[float]) -> list[float]:
    if len(pos) < 2 or len(pos) > 3:
        raise ValueError("a position has 2 or 3 numbers: [lon, lat] or [lon, lat, z]")
    lon, lat = pos[0], pos[1]
    if not all(math.isfinite(v) for v in pos):
        raise ValueError("coordinates must be finite numbers")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon} is outside -180..180")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat} is outside -90..90")
    return pos


Position = Annotated[list[float], AfterValidator(_check_position)]


def _check_ring(ring: list[Position]) -> list[Position]:
    if len(ring) < 4:
        raise ValueError("a linear ring needs at least 4 positions")
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError("a linear ring must be closed (first position equals last)")
    return ring


LinearRing = Annotated[list[Position], AfterValidator(_check_ring)]


class _Geometry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Point(_Geometry):
    type: Literal["Point"] = "Point"
    coordinates: Position

    @property
    def lon(self) -> float:
        return self.coordinates[0]

    @property
    def lat(self) -> float:
        return self.coordinates[1]


class Polygon(_Geometry):
    type: Literal["Polygon"] = "Polygon"
    coordinates: list[LinearRing] = Field(min_length=1)


class MultiPolygon(_Geometry):
    type: Literal["MultiPolygon"] = "MultiPolygon"
    coordinates: list[Annotated[list[LinearRing], Field(min_length=1)]] = Field(min_length=1)


AreaGeometry = Annotated[Polygon | MultiPolygon, Field(discriminator="type")]
