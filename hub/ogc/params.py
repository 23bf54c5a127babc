"""Query parameters of the OGC API: parsed strictly, every mistake a 400 naming the parameter.

OGC API - Features requires 400 for unknown parameters (/req/core/query-param-unknown) and for
invalid values (/req/core/query-param-invalid), so nothing here is left to FastAPI's 422.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from hub.errors import BadRequest
from hub.ogc.collections import Collection, FilterValue

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 2**31 - 1  # PostgreSQL takes up to 2**63 - 1; no registry needs more than this
JSON_FORMATS = ("json",)
GEOJSON_FORMATS = ("json", "geojson")
ITEMS_PARAMS = frozenset({"f", "bbox", "limit", "offset", "datetime"})

T = TypeVar("T")


@dataclass(frozen=True)
class BBox:
    """WGS 84 longitude/latitude box; min_lon > max_lon means it crosses the antimeridian."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def envelopes(self) -> list[tuple[float, float, float, float]]:
        """One box, or two when it crosses the antimeridian (PostGIS envelopes cannot wrap)."""
        if self.min_lon <= self.max_lon:
            return [(self.min_lon, self.min_lat, self.max_lon, self.max_lat)]
        return [
            (self.min_lon, self.min_lat, 180.0, self.max_lat),
            (-180.0, self.min_lat, self.max_lon, self.max_lat),
        ]


@dataclass(frozen=True)
class ItemsQuery:
    bbox: BBox | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    filters: dict[str, FilterValue] = field(default_factory=dict)


def single_values(pairs: Iterable[tuple[str, str]], allowed: Iterable[str]) -> dict[str, str]:
    """The query as a dict; 400 for a parameter we do not define or one given twice."""
    known = frozenset(allowed)
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in known:
            accepted = ", ".join(sorted(known)) or "none"
            raise BadRequest(f"Unknown query parameter {name!r}; accepted: {accepted}.", name)
        if name in values:
            raise BadRequest(f"Query parameter {name!r} is given more than once.", name)
        values[name] = value
    return values


def check_format(params: Mapping[str, str], formats: tuple[str, ...]) -> None:
    value = params.get("f")
    if value is not None and value not in formats:
        raise BadRequest(f"f must be one of: {', '.join(formats)}.", "f")


def parse_bbox(text: str) -> BBox:
    """`minLon,minLat,maxLon,maxLat`, or six numbers with heights (which are ignored)."""
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise ValueError("bbox takes 4 or 6 comma-separated numbers")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError("bbox takes 4 or 6 comma-separated numbers") from None
    if not all(math.isfinite(n) for n in numbers):
        raise ValueError("bbox numbers must be finite")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValueError("bbox longitudes must be within -180..180")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise ValueError("bbox latitudes must be within -90..90")
    if min_lat > max_lat:
        raise ValueError("bbox lower latitude is above the upper one")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def parse_limit(text: str) -> int:
    """1..MAX_LIMIT, the range the API definition publishes (clients size their pages by it)."""
    value = _integer(text, "limit")
    if not 1 <= value <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    return value


def parse_offset(text: str) -> int:
    value = _integer(text, "offset")
    if not 0 <= value <= MAX_OFFSET:
        raise ValueError(f"offset must be between 0 and {MAX_OFFSET}")
    return value


def check_datetime(text: str) -> None:
    """An RFC 3339 instant or an interval `start/end` with `..` or empty for an open end.

    Our features have no temporal geometry, so a valid datetime matches every feature
    (/req/core/fc-time-response); the value is checked so that mistakes still get a 400.
    """
    ends = text.split("/")
    if len(ends) > 2:
        raise ValueError("datetime is an instant or an interval start/end")
    for end in ends:
        if len(ends) == 2 and end in ("", ".."):
            continue
        try:
            datetime.fromisoformat(end)
        except ValueError:
            raise ValueError(f"datetime {end!r} is not an RFC 3339 date or date-time") from None


def parse_items_query(pairs: Iterable[tuple[str, str]], collection: Collection) -> ItemsQuery:
    allowed = ITEMS_PARAMS | {f.name for f in collection.filters}
    params = single_values(pairs, allowed)
    check_format(params, GEOJSON_FORMATS)
    if "datetime" in params:
        _parsed(params, "datetime", check_datetime)
    limit = _parsed(params, "limit", parse_limit)
    offset = _parsed(params, "offset", parse_offset)
    return ItemsQuery(
        bbox=_parsed(params, "bbox", parse_bbox),
        limit=DEFAULT_LIMIT if limit is None else limit,
        offset=0 if offset is None else offset,
        filters={
            f.name: value
            for f in collection.filters
            if (value := _parsed(params, f.name, f.parse)) is not None
        },
    )


def _integer(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer") from None


def _parsed(params: Mapping[str, str], name: str, parse: Callable[[str], T]) -> T | None:
    """`parse` applied to the parameter if given; its ValueError becomes a 400 naming it."""
    if name not in params:
        return None
    try:
        return parse(params[name])
    except ValueError as exc:
        raise BadRequest(f"{exc}.", name) from None
