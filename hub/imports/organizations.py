"""Organization import: a GeoJSON FeatureCollection of areas → organizations with jurisdictions.

Organizations are upserted by slug, so importing the same file again updates names, kinds and
jurisdictions instead of duplicating them. All or nothing: the first bad feature aborts the
import (in a savepoint) with its number and the reason. The caller commits.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Executable, literal_column
from sqlalchemy.dialects.postgresql import insert

from hub.imports.errors import ImportFailed
from hub.imports.readers import open_table
from hub.imports.rows import RowError, present, slugify
from hub.registry.models import Organization
from hub.registry.shapes import multipolygon_ewkt
from schemas.enums import OrganizationKind
from schemas.geo import AreaGeometry
from schemas.organization import SLUG_PATTERN

# Properties looked at when no --*-property names one, in order of preference. The slug prefers
# a stable code to a name; the name prefers the source's own `name` (often the local language).
SLUG_PROPERTIES = ("slug", "code")
NAME_PROPERTIES = ("name", "name_eng", "name_en")
ENGLISH_NAME_PROPERTIES = ("name_eng", "name_en")  # slugify these before a local-language name

_AREA = TypeAdapter[AreaGeometry](AreaGeometry)
_SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class OrganizationImportOptions:
    kind: OrganizationKind | None = None
    slug_property: str | None = None
    name_property: str | None = None
    kind_property: str | None = None


@dataclass(frozen=True)
class OrganizationRow:
    slug: str
    name: str
    kind: OrganizationKind
    jurisdiction: str  # MultiPolygon EWKT


@dataclass(frozen=True)
class OrganizationImportResult:
    created: int
    updated: int


def _first(properties: Mapping[str, object], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = properties.get(name)
        if present(value):
            return name, str(value).strip()
    return None


def _slug(properties: Mapping[str, object], options: OrganizationImportOptions) -> str:
    names = (options.slug_property,) if options.slug_property else SLUG_PROPERTIES
    found = _first(properties, names)
    if found is None and options.slug_property:
        raise RowError(f"property {options.slug_property!r} (the slug) is missing or empty")
    if found is None:
        found = _first(properties, ENGLISH_NAME_PROPERTIES) or _first(properties, NAME_PROPERTIES)
    if found is None:
        raise RowError("no slug, code or name property to make a slug from; pass --slug-property")
    value = found[1]
    # a value that is already a slug is kept (codes such as 11230); others are slugified
    return value if _SLUG.match(value) else slugify(value)


def _name(properties: Mapping[str, object], options: OrganizationImportOptions) -> str:
    names = (options.name_property,) if options.name_property else NAME_PROPERTIES
    found = _first(properties, names)
    if found is None:
        raise RowError(f"no name (looked for {', '.join(names)}); pass --name-property")
    if len(found[1]) > 200:
        raise RowError(f"name in {found[0]!r} is {len(found[1])} characters; at most 200 fit")
    if "\x00" in found[1]:
        raise RowError(f"name in {found[0]!r} contains a NUL character")
    return found[1]


def _kind(properties: Mapping[str, object], options: OrganizationImportOptions) -> OrganizationKind:
    if options.kind_property:
        value = properties.get(options.kind_property)
        if present(value):
            try:
                return OrganizationKind(str(value).strip().lower())
            except ValueError:
                kinds = ", ".join(k.value for k in OrganizationKind)
                raise RowError(
                    f"kind {value!r} in {options.kind_property!r} is not one of: {kinds}"
                ) from None
    if options.kind is None:
        raise RowError("no kind; pass --kind KIND (or --kind-property PROPERTY)")
    return options.kind


def _area(geometry: object) -> str:
    try:
        area = _AREA.validate_python(geometry)
    except ValidationError as exc:
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        if kind not in {"Polygon", "MultiPolygon"}:
            raise RowError(f"geometry must be a Polygon or MultiPolygon, not {kind}") from None
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"][1:])
        raise RowError(f"geometry {where}: {error['msg']}") from None
    try:
        return multipolygon_ewkt(area)
    except ValueError as exc:
        hint = "fix the geometry (QGIS: Fix geometries; PostGIS: ST_MakeValid)"
        raise RowError(f"{exc}; {hint}") from None


def organization_of(
    properties: Mapping[str, object], geometry: object, options: OrganizationImportOptions
) -> OrganizationRow:
    """The organization one feature describes; RowError says why it cannot be one. Pure."""
    return OrganizationRow(
        _slug(properties, options),
        _name(properties, options),
        _kind(properties, options),
        _area(geometry),
    )


def import_organizations(
    conn: Connection, path: Path, options: OrganizationImportOptions
) -> OrganizationImportResult:
    """Upsert one organization per feature; ImportFailed (nothing written) on a bad feature."""
    created = updated = 0
    first_seen: dict[str, int] = {}
    with open_table(path) as table:
        if table.kind != "geojson":
            raise ImportFailed(
                f"{path} is not GeoJSON; organizations come from a FeatureCollection of "
                "Polygon/MultiPolygon features"
            )
        with conn.begin_nested():
            for record in table.records():
                properties = dict(zip(record.headers, record.values, strict=True))
                try:
                    org = organization_of(properties, record.geometry, options)
                except RowError as exc:
                    raise ImportFailed(f"feature {record.number}: {exc}") from None
                if org.slug in first_seen:
                    raise ImportFailed(
                        f"feature {record.number}: slug {org.slug!r} repeats feature "
                        f"{first_seen[org.slug]}; give each area its own slug or code"
                    )
                first_seen[org.slug] = record.number
                if _upsert(conn, org):
                    created += 1
                else:
                    updated += 1
    return OrganizationImportResult(created, updated)


def _upsert(conn: Connection, org: OrganizationRow) -> bool:
    """Insert or update by slug; True when it was inserted."""
    stmt = insert(Organization).values(
        id=uuid.uuid4(), slug=org.slug, name=org.name, kind=org.kind, jurisdiction=org.jurisdiction
    )
    upsert: Executable = stmt.on_conflict_do_update(
        index_elements=[Organization.slug],
        set_={
            "name": stmt.excluded.name,
            "kind": stmt.excluded.kind,
            "jurisdiction": stmt.excluded.jurisdiction,
        },
    ).returning(literal_column("xmax = 0").label("inserted"))
    return bool(conn.execute(upsert).scalar_one())
