"""Demand points, demand areas and obstacles from file records: validation. Pure, no I/O.

CSV rows give a point by their latitude/longitude columns (the spellings camera imports
accept: lat, latitude, y, 위도 / lon, lng, longitude, x, 경도); GeoJSON features give a Point,
Polygon or MultiPolygon. Every other column or property is kept as the point's properties.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon

from hub.geojson_checks import GeometryError, checked_geometry
from hub.imports.errors import ColumnError
from hub.imports.readers import Record
from hub.imports.rows import ALIASES, RowError, normalize_header, parse_number, present

NAME_COLUMNS = ("name", "place", "title", "new_address", "old_address")
DEMAND_GEOMETRIES = ("Point", "Polygon", "MultiPolygon")
MAX_LISTED = 20  # errors named in the message; the count says how many more


@dataclass(frozen=True)
class DemandRow:
    line: int
    name: str | None
    weight: float
    ewkt: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Columns:
    """Where a CSV keeps what a demand point needs (indices into the row)."""

    lat: int | None
    lon: int | None
    name: int | None
    weight: int | None


def _index(headers: Sequence[str], names: Sequence[str]) -> int | None:
    normalized = [normalize_header(h) for h in headers]
    for name in names:
        if normalize_header(name) in normalized:
            return normalized.index(normalize_header(name))
    return None


def plan_columns(
    headers: Sequence[str], *, csv: bool, name_column: str | None, weight_column: str | None
) -> Columns:
    """The columns to read; ColumnError when a named or needed one is missing."""
    listed = ", ".join(headers) or "none"
    name = _index(headers, [name_column] if name_column else NAME_COLUMNS)
    if name_column and name is None:
        raise ColumnError(f"--name-column {name_column}: no such column (columns: {listed})")
    weight = _index(headers, [weight_column]) if weight_column else None
    if weight_column and weight is None:
        raise ColumnError(f"--weight-column {weight_column}: no such column (columns: {listed})")
    if not csv:
        return Columns(None, None, name, weight)
    lat, lon = _index(headers, ALIASES["lat"]), _index(headers, ALIASES["lon"])
    if lat is None or lon is None:
        raise ColumnError(
            f"no latitude/longitude columns (columns: {listed}); name them latitude and "
            "longitude (or lat/lon, y/x, 위도/경도)"
        )
    return Columns(lat, lon, name, weight)


def parse_weight(raw: object) -> float:
    value = parse_number(raw)
    if value <= 0:
        raise RowError(f"weight {value:g} must be above 0")
    return value


def _cell(values: Sequence[object], index: int | None) -> object:
    return values[index] if index is not None and index < len(values) else None


def _coordinate(raw: object, label: str, limit: float) -> float:
    if not present(raw):
        raise RowError(f"{label} is empty")
    try:
        value = parse_number(raw)
    except RowError as exc:
        raise RowError(f"{label} {exc}") from None
    if not -limit <= value <= limit:
        raise RowError(f"{label} {value:g} is outside -{limit:g}..{limit:g}")
    return value


def _geometry_ewkt(geometry: object) -> str:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if not isinstance(geometry, dict) or kind not in DEMAND_GEOMETRIES:
        raise RowError(f"geometry must be a Point, Polygon or MultiPolygon, not {kind or 'null'}")
    try:
        geom = checked_geometry(geometry, "geometry")
    except GeometryError as exc:
        raise RowError(str(exc)) from None
    return f"SRID=4326;{geom.wkt}"


def _text(raw: object) -> str | None:
    if not present(raw):
        return None
    return str(raw).strip()[:500]


def demand_row(record: Record, columns: Columns, default_weight: float) -> DemandRow:
    """One demand point or area; RowError names what is wrong with the record."""
    values = record.values
    if record.feature is None:
        lat = _coordinate(_cell(values, columns.lat), "latitude", 90)
        lon = _coordinate(_cell(values, columns.lon), "longitude", 180)
        ewkt = f"SRID=4326;POINT({lon!r} {lat!r})"
    else:
        ewkt = _geometry_ewkt(record.geometry)
    raw_weight = _cell(values, columns.weight)
    weight = parse_weight(raw_weight) if present(raw_weight) else default_weight
    used = {columns.lat, columns.lon, columns.weight}
    properties = {
        h: v for i, (h, v) in enumerate(zip(record.headers, values, strict=False)) if i not in used
    }
    return DemandRow(record.number, _text(_cell(values, columns.name)), weight, ewkt, properties)


def obstacle_ewkt(record: Record) -> str:
    """A building footprint as a MultiPolygon; RowError unless the geometry is an area."""
    kind = record.geometry.get("type") if isinstance(record.geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise RowError(f"geometry must be a Polygon or MultiPolygon, not {kind or 'null'}")
    ewkt = _geometry_ewkt(record.geometry)
    geom = shapely.from_wkt(ewkt.removeprefix("SRID=4326;"))
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return f"SRID=4326;{geom.wkt}"


def check_default_weight(weight: float) -> None:
    if not math.isfinite(weight) or weight <= 0:
        raise ColumnError(f"--weight {weight:g} must be a number above 0")


def error_summary(errors: Sequence[str], unit: str) -> str:
    """One line naming the bad records (the first MAX_LISTED) and what to do."""
    shown = "; ".join(errors[:MAX_LISTED])
    more = f"; and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
    noun = "record" if len(errors) == 1 else "records"
    return (
        f"{len(errors)} bad {noun} ({unit} numbers from the file): {shown}{more}; "
        "fix them and import again (nothing was loaded)"
    )
