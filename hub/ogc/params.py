"""Query parameters of the OGC API: parsed strictly, every mistake a 400 naming the parameter.

OGC API - Features requires 400 for unknown parameters (/req/core/query-param-unknown) and for
invalid values (/req/core/query-param-invalid), so nothing here is left to FastAPI's 422.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from hub.errors import BadRequest
from hub.ogc.collections import Collection, FilterValue
from hub.registry.params import BBox, parse_bbox

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 2**31 - 1  # PostgreSQL takes up to 2**63 - 1; no registry needs more than this
JSON_FORMATS = ("json",)
GEOJSON_FORMATS = ("json", "geojson")
ITEMS_PARAMS = frozenset({"f", "bbox", "limit", "offset", "datetime"})

T = TypeVar("T")


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
