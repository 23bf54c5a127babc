"""GeoJSON geometry contracts (RFC 7946), EPSG:4326 only.

Ranges are part of the JSON Schema (so clients and fuzzers see them); ring closure is checked
here; topological validity (self-intersection) needs a geometry engine and is checked by the hub.
"""

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema


def _check_position(pos: list[float]) -> list[float]:
    if not all(math.isfinite(v) for v in pos):
        raise ValueError("coordinates must be finite numbers")
    lon, lat = pos[0], pos[1]
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon} is outside -180..180")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat} is outside -90..90")
    return pos


# Checked in code for one clear message; the schema states the same ranges per index.
Position = Annotated[
    list[Annotated[float, Field(strict=True)]],
    Field(min_length=2, max_length=3),
    AfterValidator(_check_position),
    WithJsonSchema(
        {
            "type": "array",
            "description": "[longitude, latitude] or [longitude, latitude, height], EPSG:4326",
            "minItems": 2,
            "maxItems": 3,
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
                {"type": "number"},
            ],
        }
    ),
]


def _check_ring(ring: list[Position]) -> list[Position]:
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError("a linear ring must be closed (first position equals last)")
    return ring


LinearRing = Annotated[list[Position], Field(min_length=4), AfterValidator(_check_ring)]


class _Geometry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Point(_Geometry):
    type: Literal["Point"]
    coordinates: Position

    @property
    def lon(self) -> float:
        return self.coordinates[0]

    @property
    def lat(self) -> float:
        return self.coordinates[1]


class Polygon(_Geometry):
    type: Literal["Polygon"]
    coordinates: list[LinearRing] = Field(min_length=1)


class MultiPolygon(_Geometry):
    type: Literal["MultiPolygon"]
    coordinates: list[Annotated[list[LinearRing], Field(min_length=1)]] = Field(min_length=1)


AreaGeometry = Annotated[Polygon | MultiPolygon, Field(discriminator="type")]
