"""Camera rows from inventory files: column detection, value parsing, validation. Pure, no I/O.

Validation is plain code rather than a pydantic model per row: an import of a million rows must
run at tens of thousands of rows per second, and the rules here are the camera contract's rules
(schemas/camera.py); tests/unit/test_import_rows.py checks that the two agree.
"""

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urlsplit

from hub.imports.errors import ColumnError
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus
from schemas.scalars import URI_PATTERN

MAX_TAGS = 50
TAG_SEPARATOR = ";"
SLUG_MAX = 63


class RowError(ValueError):
    """A row that cannot become a camera; the message says why in one line."""


class CameraRow(NamedTuple):
    """One validated camera record, in the column order of the import's staging table."""

    owner: str | None  # the owner column's value; None when every row has the same owner
    external_id: str | None
    name: str | None
    purpose: str
    legal_basis: str | None
    lon: float
    lat: float
    heading_deg: float | None
    fov_deg: float | None
    range_m: float | None
    mount_height_m: float | None
    ptz: bool
    vendor: str | None
    model: str | None
    firmware: str | None
    install_year: int | None
    ai_capable: bool
    adapter: str
    stream_uri: str | None
    snapshot_uri: str | None
    device_uri: str | None
    status: str
    last_seen_at: datetime | None
    retention_days: int | None
    tags: list[str]
    units: int


# --- column names ----------------------------------------------------------------------------

# Header spellings each field is found under, in order of preference. Per row the first
# non-empty one wins, so `name` falls back from a road address to a lot-number address.
ALIASES: dict[str, tuple[str, ...]] = {
    "lat": ("lat", "latitude", "y", "위도"),
    "lon": ("lon", "lng", "long", "longitude", "x", "경도"),
    "external_id": ("external_id", "id", "camera_id"),
    "name": ("name", "new_address", "old_address"),
    "units": ("units", "count"),
    "retention_days": ("retention_days", "retention", "keep_day"),
}

# In the Korean national CCTV dataset `keep_day` is 0 where the agency did not report it, so
# there 0 means unknown (NULL); in any other retention column 0 means "not kept".
ZERO_MEANS_UNKNOWN = frozenset({"keep_day"})

# The fields `--map FIELD=COLUMN` accepts: coordinates plus the camera contract's own fields.
# Credentials are not imported from files: set them through the API, which seals them.
FIELDS: tuple[str, ...] = ("lat", "lon", *CameraRow._fields[1:5], *CameraRow._fields[7:])
_POSITION = {field: i for i, field in enumerate(CameraRow._fields)}


def normalize_header(header: str) -> str:
    """Lower case, trimmed, inner spaces and hyphens as underscores: `Camera ID` → `camera_id`."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


@dataclass(frozen=True)
class Source:
    """Where one field is read from: column positions (first non-empty wins) and their names."""

    field: str
    indices: tuple[int, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """The columns an import reads. `lat`/`lon` are None when a GeoJSON geometry holds them."""

    sources: tuple[Source, ...]
    lat: Source | None
    lon: Source | None
    owner: Source | None
    ignored: tuple[str, ...]


def parse_map_options(options: Sequence[str]) -> dict[str, str]:
    """`["name=addr", "lat=Y"]` → `{"name": "addr", "lat": "Y"}`; ColumnError on a bad one."""
    mapping: dict[str, str] = {}
    for option in options:
        field, sep, column = option.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise ColumnError(f"--map takes FIELD=COLUMN, got {option!r}")
        if field not in FIELDS:
            raise ColumnError(f"--map: unknown field {field!r}; fields: {', '.join(FIELDS)}")
        mapping[field] = column
    return mapping


def _find(headers: Sequence[str], column: str) -> int | None:
    """Position of `column`: an exact match first, else one equal after normalize_header."""
    if column in headers:
        return list(headers).index(column)
    wanted = normalize_header(column)
    for i, header in enumerate(headers):
        if normalize_header(header) == wanted:
            return i
    return None


def _listed(headers: Sequence[str]) -> str:
    return ", ".join(h or "(blank)" for h in headers) or "(none)"


def _named(headers: Sequence[str], field: str, column: str, option: str) -> Source:
    index = _find(headers, column)
    if index is None:
        raise ColumnError(f"{option}: no column {column!r}; the file has: {_listed(headers)}")
    return Source(field, (index,), (headers[index],))


def plan_columns(
    headers: Sequence[str],
    mapping: Mapping[str, str],
    owner_column: str | None,
    *,
    geometry_coordinates: bool = False,
) -> Plan:
    """Which column feeds which field. ColumnError when coordinates or a named column are missing.

    `geometry_coordinates`: the coordinates come from each feature's geometry (GeoJSON), so no
    lat/lon column is looked for and --map lat/lon is refused.
    """
    unknown = sorted(mapping.keys() - set(FIELDS))
    if unknown:
        raise ColumnError(f"--map: unknown field {unknown[0]!r}; fields: {', '.join(FIELDS)}")
    if geometry_coordinates and ({"lat", "lon"} & mapping.keys()):
        raise ColumnError("GeoJSON coordinates come from each feature's Point; drop --map lat/lon")
    normalized = [normalize_header(h) for h in headers]
    used: set[int] = set()
    sources: dict[str, Source] = {}
    for field in FIELDS:
        if field in mapping:
            source = _named(headers, field, mapping[field], f"--map {field}={mapping[field]}")
        else:
            aliases = ALIASES.get(field, (field,))
            found = [normalized.index(a) for a in aliases if a in normalized]
            if not found:
                continue
            source = Source(field, tuple(found), tuple(headers[i] for i in found))
        sources[field] = source
        used.update(source.indices)
    owner = None
    if owner_column is not None:
        owner = _named(headers, "owner", owner_column, f"--owner-column {owner_column}")
        used.update(owner.indices)
    lat, lon = sources.pop("lat", None), sources.pop("lon", None)
    if not geometry_coordinates and (lat is None or lon is None):
        raise ColumnError(
            "no latitude/longitude columns found (looked for "
            f"{', '.join(ALIASES['lat'])} / {', '.join(ALIASES['lon'])}); "
            f"the file has: {_listed(headers)}; name them with --map lat=COLUMN --map lon=COLUMN"
        )
    if geometry_coordinates:
        lat = lon = None
    ignored = tuple(h for i, h in enumerate(headers) if i not in used)
    return Plan(tuple(sources.values()), lat, lon, owner, ignored)


# --- values ----------------------------------------------------------------------------------
# Parsers take a trimmed, non-empty cell: text from CSV, or any JSON value from GeoJSON. They
# run once per cell of a million-row file, hence the plain code and the fast paths for text.


def _show(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(raw: object) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def parse_number(raw: object) -> float:
    """A finite number; NaN and infinity are refused."""
    if isinstance(raw, str):
        try:
            value = float(raw)
        except ValueError:
            raise RowError(f"{_show(raw)} is not a number") from None
    elif _is_number(raw):
        value = float(raw)  # type: ignore[arg-type]
    else:
        raise RowError(f"{_show(raw)} is not a number")
    if not math.isfinite(value):
        raise RowError(f"{_show(raw)} is not a finite number")
    return value


def parse_integer(raw: object) -> int:
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            pass  # "30.0", as spreadsheets write whole numbers, is read below
    elif isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    value = parse_number(raw)
    if not value.is_integer():
        raise RowError(f"{_show(raw)} is not a whole number")
    return int(value)


Parser = Callable[[object], object]


def _bounded(
    parse: Callable[[object], float],
    low: float,
    high: float,
    *,
    open_low: bool = False,
    hint: str = "",
) -> Parser:
    label = f"({low:g}..{high:g}]" if open_low else f"{low:g}..{high:g}"
    # what `parse` tries first on text, called directly on the common path
    assert parse in (parse_number, parse_integer)
    convert: Callable[[str], float] = float if parse is parse_number else int

    def check(raw: object) -> object:
        if type(raw) is str:
            try:
                value = convert(raw)
            except ValueError:
                value = parse(raw)  # says why it is no number, or reads "30.0" as whole
        else:
            value = parse(raw)
        if low < value <= high or (value == low and not open_low):
            return value
        parse(raw)  # NaN fails every comparison: parse says it is not a finite number
        raise RowError(f"{_show(raw)} is outside {label}{hint}")

    return check


_BOOLEANS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0"), False),
}


def parse_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        value = _BOOLEANS.get(raw.lower())
    else:
        value = _BOOLEANS.get(str(raw)) if isinstance(raw, int) else None
    if value is None:
        raise RowError(f"{_show(raw)} is not true/false (also yes/no, 1/0)")
    return value


def _text(max_length: int) -> Parser:
    def check(raw: object) -> object:
        if type(raw) is str and len(raw) <= max_length and "\x00" not in raw:
            return raw  # the common case, in short
        if isinstance(raw, str):
            text = raw
        elif _is_number(raw):
            text = str(raw)
        else:
            raise RowError(f"{_show(raw)} is not text")
        if len(text) > max_length:
            raise RowError(f"is {len(text)} characters long; at most {max_length} fit")
        if "\x00" in text:  # PostgreSQL text cannot hold it
            raise RowError("contains a NUL character")
        return text

    return check


def _choice(enum: type[StrEnum]) -> Parser:
    """One of the enum's values; case, spaces and hyphens do not matter (Crime prevention)."""
    values = {m.value: m.value for m in enum}
    listed = ", ".join(values)

    def check(raw: object) -> object:
        value = values.get(raw) if isinstance(raw, str) else None
        if value is None and isinstance(raw, str):
            value = values.get(normalize_header(raw))
        if value is None:
            raise RowError(f"{_show(raw)} is not one of: {listed}")
        return value

    return check


_URI = re.compile(URI_PATTERN)


def parse_uri(raw: object) -> str:
    """The camera contract's stream URIs: rtsp(s)/http(s), a host, and no credentials."""
    text = _text(2000)(raw)
    assert isinstance(text, str)
    try:
        userinfo = urlsplit(text).username is not None
    except ValueError:
        userinfo = False  # not a URI at all: the pattern below says so
    if userinfo:
        # no value in the message: it holds a password
        raise RowError("holds credentials; remove them from the URI and set them through the API")
    if not _URI.match(text):
        raise RowError(
            f"{_show(raw)} is not an rtsp://, rtsps://, http:// or https:// URI with a host"
        )
    return text


def parse_datetime(raw: object) -> datetime:
    """An ISO 8601 / RFC 3339 date-time with its UTC offset, as the camera contract wants."""
    if not isinstance(raw, str):
        raise RowError(f"{_show(raw)} is not an ISO 8601 date-time")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise RowError(f"{_show(raw)} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise RowError(f"{_show(raw)} has no UTC offset; add one, e.g. 2024-05-01T10:00:00Z")
    return value


def parse_tags(raw: object) -> list[str]:
    if isinstance(raw, str):
        items: list[object] = list(raw.split(TAG_SEPARATOR))
    elif isinstance(raw, list):
        items = raw
    else:
        raise RowError(f"{_show(raw)} is not a list of tags")
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise RowError(f"tag {_show(item)} is not text")
        tag = item.strip()
        if not tag:
            continue
        if len(tag) > 64 or "\x00" in tag:
            raise RowError(f"tag {_show(tag)} is longer than 64 characters or holds a NUL")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise RowError(f"has {len(tags)} tags; at most {MAX_TAGS}")
    return tags


_WGS84 = "; coordinates must be WGS 84 degrees"
PARSERS: dict[str, Parser] = {
    "owner": _text(200),
    "lat": _bounded(parse_number, -90, 90, hint=_WGS84),
    "lon": _bounded(parse_number, -180, 180, hint=_WGS84),
    "external_id": _text(200),
    "name": _text(200),
    "purpose": _choice(CameraPurpose),
    "legal_basis": _text(500),
    "heading_deg": _bounded(parse_number, 0, 360),
    "fov_deg": _bounded(parse_number, 0, 360, open_low=True),
    "range_m": _bounded(parse_number, 0, 20000, open_low=True),
    "mount_height_m": _bounded(parse_number, 0, 1000),
    "ptz": parse_bool,
    "vendor": _text(100),
    "model": _text(100),
    "firmware": _text(100),
    "install_year": _bounded(parse_integer, 1950, 2100),
    "ai_capable": parse_bool,
    "adapter": _choice(AdapterKind),
    "stream_uri": parse_uri,
    "snapshot_uri": parse_uri,
    "device_uri": parse_uri,
    "status": _choice(CameraStatus),
    "last_seen_at": parse_datetime,
    "retention_days": _bounded(parse_integer, 0, 3650),
    "tags": parse_tags,
    "units": _bounded(parse_integer, 1, 100000, hint=" (a record stands for 1 or more cameras)"),
}
# Fields a row cannot do without, and what to say when their cell is blank.
REQUIRED = {"lat": "is empty", "lon": "is empty", "owner": "is empty (it names the owner)"}


def present(raw: object) -> bool:
    """Whether a cell holds a value: not missing, not null, not blank."""
    return raw is not None and not (isinstance(raw, str) and not raw.strip())


def point_of(geometry: object) -> tuple[float, float]:
    """(lon, lat) of a GeoJSON Point geometry; RowError for anything else."""
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        raise RowError(f"geometry must be a Point, not {kind or 'null'}")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise RowError("Point coordinates must be [longitude, latitude]")
    return _axis("lon", "longitude", coordinates[0]), _axis("lat", "latitude", coordinates[1])


def _axis(field: str, label: str, raw: object) -> float:
    try:
        value = PARSERS[field](raw)
    except RowError as exc:
        raise RowError(f"{label} {exc}") from None
    assert isinstance(value, float)
    return value


class _Rules(NamedTuple):
    """What few fields have: further columns, a reason to refuse a blank, a 0 that means none."""

    fallback: Source | None  # further columns, read when the first is blank
    when_empty: str | None  # the reason to refuse the row when every column is blank
    zero_unknown: frozenset[str]  # columns where 0 means "not reported"

    def blank(self, values: Sequence[object], column: str) -> tuple[object, str]:
        """For a blank first column: the first non-blank further one (None if none) and its
        column; RowError when the field may not be blank."""
        raw: object = None
        if self.fallback is not None:
            raw, column = _first(values, self.fallback)
        if raw is None and self.when_empty is not None:
            raise RowError(f"{column} {self.when_empty}")
        return raw, column


# How one field is read: its position in CameraRow, its first column's position in the row and
# name, the parser, and any rules (None for most fields, which keeps validate's loop short). A
# plain tuple: Python unpacks those faster than a NamedTuple, in a loop run for every cell.
_Step = tuple[int, int, str, Parser, _Rules | None]


def _step(source: Source) -> _Step:
    rest = Source(source.field, source.indices[1:], source.columns[1:])
    rules = _Rules(
        rest if rest.indices else None,
        REQUIRED.get(source.field),
        frozenset(c for c in source.columns if normalize_header(c) in ZERO_MEANS_UNKNOWN),
    )
    plain = rules == (None, None, frozenset())
    return (
        _POSITION[source.field],
        source.indices[0],
        source.columns[0],
        PARSERS[source.field],
        None if plain else rules,
    )


def _first(values: Sequence[object], source: Source) -> tuple[object, str]:
    """The first non-blank value among the source's columns (trimmed), and its column."""
    for index, column in zip(source.indices, source.columns, strict=True):
        raw = values[index]
        if isinstance(raw, str):
            raw = raw.strip()
        if raw is not None and raw != "":
            return raw, column
    return None, source.columns[0]


class RowValidator:
    """Turns the cells of one row into a CameraRow, or raises RowError saying why it cannot."""

    def __init__(
        self,
        plan: Plan,
        *,
        purpose: CameraPurpose = CameraPurpose.OTHER,
        adapter: AdapterKind = AdapterKind.NONE,
    ) -> None:
        self.plan = plan
        # defaults are the camera contract's defaults, with purpose/adapter from the command line
        self._template: list[object] = [None] * len(CameraRow._fields)
        for field, value in (
            ("purpose", purpose.value),
            ("ptz", False),
            ("ai_capable", False),
            ("adapter", adapter.value),
            ("status", CameraStatus.UNKNOWN.value),
            ("tags", []),  # one shared empty list: rows are never changed after validation
            ("units", 1),
        ):
            self._template[_POSITION[field]] = value
        # coordinates and owner first: a row without them is refused for that before the rest
        first = [s for s in (plan.lat, plan.lon, plan.owner) if s is not None]
        sources = (*first, *plan.sources)
        self._steps = [_step(s) for s in sources]
        self._width = max((i + 1 for s in sources for i in s.indices), default=0)

    def validate(
        self, values: Sequence[object], point: tuple[float, float] | None = None
    ) -> CameraRow:
        """The row's camera. `point` is (lon, lat) from a geometry, else read from the columns."""
        if len(values) < self._width:
            raise RowError(f"has {len(values)} fields; the columns need {self._width}")
        row = self._template.copy()
        if point is not None:
            row[_LON], row[_LAT] = point
        for position, cell, column, parse, rules in self._steps:
            raw = values[cell]
            if isinstance(raw, str):
                raw = raw.strip()
            if raw is None or raw == "":
                if rules is None:
                    continue
                raw, column = rules.blank(values, column)
                if raw is None:
                    continue
            try:
                value = parse(raw)
            except RowError as exc:
                raise RowError(f"{column} {exc}") from None
            if rules is not None and value == 0 and column in rules.zero_unknown:
                value = None
            row[position] = value
        if row[_LAT] == 0 and row[_LON] == 0:
            raise RowError("coordinates 0,0 are a placeholder, not a location; fix or drop the row")
        return CameraRow._make(row)


_LAT, _LON = _POSITION["lat"], _POSITION["lon"]


# --- slugs -----------------------------------------------------------------------------------


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def slugify(name: str) -> str:
    """A slug for an organization name, stable for the same name.

    ASCII letters and digits survive (accents are dropped: Zürich → zurich); when other letters
    are lost (Korean, say) 8 hex digits of the name's SHA-1 are appended, so 서울 Metro and
    부산 Metro differ; a name with nothing ASCII becomes org-<8 hex>.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_part = decomposed.encode("ascii", "ignore").decode()
    lost = any(ch.isalnum() for ch in decomposed if not ch.isascii())
    words = re.findall(r"[a-z0-9]+", ascii_part.lower())
    base = "-".join(words)
    if not base:
        return f"org-{short_hash(name)}"
    if not lost:
        return base[:SLUG_MAX].rstrip("-")
    return f"{base[: SLUG_MAX - 9].rstrip('-')}-{short_hash(name)}"
