"""GeoJSON geometries checked before any SQL sees them. Pure (shapely, no I/O).

The checks every caller needs (it parses, is not empty, is valid, lies within longitude and
latitude) live here once; which geometry types a caller takes, and how it words a problem for
its own users, stay with the caller.
"""

from enum import Enum
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry


class Problem(Enum):
    NOT_GEOJSON = "not GeoJSON"
    EMPTY = "empty"
    INVALID = "invalid"
    OUT_OF_RANGE = "out of range"


class GeometryError(ValueError):
    """What is wrong with a geometry, worded with the caller's label ("area", "geometry").

    `problem` and `detail` (the parser's complaint, or shapely's reason a geometry is invalid)
    let a caller word it otherwise."""

    def __init__(self, problem: Problem, detail: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.detail = detail


def checked_geometry(geometry: dict[str, Any], label: str) -> BaseGeometry:
    """The GeoJSON geometry as shapely, or GeometryError saying what is wrong with it."""
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        # shapely raises any of these on malformed or missing coordinates, depending on how
        # they are bad
        raise GeometryError(
            Problem.NOT_GEOJSON, str(exc), f"{label} is not valid GeoJSON ({exc})"
        ) from None
    if geom.is_empty:
        raise GeometryError(Problem.EMPTY, "", f"{label} is empty")
    reason = shapely.is_valid_reason(geom)
    if reason != "Valid Geometry":
        raise GeometryError(Problem.INVALID, reason, f"{label} is invalid: {reason}")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise GeometryError(
            Problem.OUT_OF_RANGE,
            "",
            f"{label} has positions outside longitude -180..180 / latitude -90..90",
        )
    return geom
