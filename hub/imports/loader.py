"""Camera import: stream a file through validation into a staging table with COPY, then in SQL.

1. Each record is validated in Python (hub.imports.rows) and streamed with COPY into a
   temporary staging table with its line number; a rejected record keeps only its line and
   reason there. Footprints are computed per batch (hub.imports.footprints).
2. SQL finds repeated external ids: within the file (the first occurrence wins) and against the
   cameras the owner already has.
3. New owners are inserted, then `INSERT INTO cameras SELECT … FROM staging`; a large load
   into a smaller table rebuilds the search indexes afterwards instead (see _insert).
All of it runs in a savepoint: an import that fails leaves nothing behind, organizations
included. The caller commits.
"""

import csv
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, select, text

from hub.imports.errors import ImportFailed
from hub.imports.footprints import footprints_hex
from hub.imports.owners import OwnerDirectory
from hub.imports.readers import Record, Table, open_table
from hub.imports.rows import CameraRow, RowError, RowValidator, plan_columns, point_of
from hub.registry.models import Organization
from schemas.enums import AdapterKind, CameraPurpose, OrganizationKind

STAGING = "c4hub_import_staging"
BATCH = 2000  # rows per footprint batch
PROGRESS_EVERY = 4096  # records between progress reports
MAX_PLANS = 256  # distinct GeoJSON property sets whose column plans are kept
BULK_MIN_ROWS = 100_000  # from here an import into a smaller table rebuilds indexes (_insert)
BULK_INDEX_MEMORY = "256MB"  # for those index builds, for this transaction only

# The staging table: the source line, a reject reason, the owner, then CameraRow's fields.
STAGING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("line", "integer"),
    ("reason", "text"),
    ("owner_id", "uuid"),
    ("external_id", "text"),
    ("name", "text"),
    ("purpose", "text"),
    ("legal_basis", "text"),
    ("lon", "float8"),
    ("lat", "float8"),
    ("heading_deg", "float8"),
    ("fov_deg", "float8"),
    ("range_m", "float8"),
    ("mount_height_m", "float8"),
    ("ptz", "boolean"),
    ("vendor", "text"),
    ("model", "text"),
    ("firmware", "text"),
    ("install_year", "integer"),
    ("ai_capable", "boolean"),
    ("adapter", "text"),
    ("stream_uri", "text"),
    ("snapshot_uri", "text"),
    ("status", "text"),
    ("last_seen_at", "timestamptz"),
    ("retention_days", "integer"),
    ("tags", "text[]"),
    ("units", "integer"),
    ("fov", "geometry"),
)
_REJECT_PADDING = (None,) * (len(STAGING_COLUMNS) - 2)

# Staging columns copied as they are; location is built from lon/lat.
_COPIED = [name for name, _ in STAGING_COLUMNS if name not in {"line", "reason", "lon", "lat"}]
INSERT_CAMERAS = f"""
INSERT INTO cameras (id, location, {", ".join(_COPIED)})
SELECT gen_random_uuid(), ST_SetSRID(ST_MakePoint(lon, lat), 4326), {", ".join(_COPIED)}
FROM pg_temp.{STAGING} WHERE reason IS NULL
"""

# A repeated (owner, external_id) in the file: the first occurrence wins, later ones are marked.
_ANY_REPEATS = f"""
SELECT EXISTS (
  SELECT FROM pg_temp.{STAGING} WHERE reason IS NULL AND external_id IS NOT NULL
  GROUP BY owner_id, external_id HAVING count(*) > 1)
"""
_MARK_REPEATS = f"""
WITH ranked AS (
  SELECT line, external_id,
         min(line) OVER (PARTITION BY owner_id, external_id) AS first_line
  FROM pg_temp.{STAGING} WHERE reason IS NULL AND external_id IS NOT NULL)
UPDATE pg_temp.{STAGING} s
SET reason = format('external_id %L repeats %s %s; give each camera its own id',
                    r.external_id, CAST(:unit AS text), r.first_line)
FROM ranked r WHERE s.line = r.line AND r.line > r.first_line
"""
_MARK_EXISTING = f"""
UPDATE pg_temp.{STAGING} s
SET reason = format('%s already has a camera with external_id %L; drop the row or change '
                    'that camera through the API', o.slug, s.external_id)
FROM cameras c JOIN organizations o ON o.id = c.owner_id
WHERE s.reason IS NULL AND s.external_id IS NOT NULL
  AND c.owner_id = s.owner_id AND c.external_id = s.external_id
"""


@dataclass(frozen=True)
class CameraImportOptions:
    owner: str | None = None  # one owner (slug or id) for every row
    owner_column: str | None = None  # or the column naming each row's owner
    create_owners: OrganizationKind | None = None  # create unknown owners with this kind
    mapping: Mapping[str, str] = field(default_factory=dict)  # field → column overrides
    skip_invalid: bool = False
    rejects: Path | None = None  # default <file>.rejects.csv (only with skip_invalid)
    purpose: CameraPurpose = CameraPurpose.OTHER
    adapter: AdapterKind = AdapterKind.NONE
    encoding: str = "utf-8"


@dataclass(frozen=True)
class CameraImportResult:
    records: int
    units: int
    owners: int
    rejected: int
    created_owners: list[str]  # slugs
    ignored_columns: list[str]
    rejects_path: Path | None


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def import_cameras(
    conn: Connection,
    path: Path,
    options: CameraImportOptions,
    progress: Callable[[int], None] | None = None,
) -> CameraImportResult:
    """Import the cameras of a CSV or GeoJSON file, all or nothing unless `skip_invalid`.

    Raises an InventoryError with a one-line reason; on any failure the savepoint is rolled
    back, so nothing is written. The caller commits.
    """
    if (options.owner is None) == (options.owner_column is None):
        raise ImportFailed("pass exactly one of --owner ORG and --owner-column COLUMN")
    rejects = _rejects_path(path, options)
    with open_table(path, options.encoding) as table:
        validators = _Validators(table, options)
        owner_id, directory = _owners(conn, options)
        with conn.begin_nested():
            _create_staging(conn)
            streamed = _stream(conn, table, validators, owner_id, directory, options, progress)
            rejected = streamed.rejected + _mark_repeats(conn, table.unit, streamed.external_ids)
            if rejected and not options.skip_invalid:
                line, reason = _first_reject(conn)
                raise ImportFailed(f"{table.unit} {line}: {reason}")
            per_owner = _per_owner(conn)
            records = sum(records for records, _ in per_owner.values())
            created = directory.insert_new(conn, set(per_owner)) if directory else []
            _insert(conn, records)
            if rejects is not None and rejected:
                _write_rejects(conn, table, rejects)
            conn.execute(text(f"DROP TABLE pg_temp.{STAGING}"))
    return CameraImportResult(
        records=records,
        units=sum(units for _, units in per_owner.values()),
        owners=len(per_owner),
        rejected=rejected,
        created_owners=[o.slug for o in created],
        ignored_columns=validators.ignored(),
        rejects_path=rejects if rejected else None,
    )


def _rejects_path(path: Path, options: CameraImportOptions) -> Path | None:
    """Where rejected rows go (checked before the work starts), None without --skip-invalid."""
    if not options.skip_invalid:
        return None
    rejects = options.rejects or default_rejects_path(path)
    folder = rejects.parent if str(rejects.parent) else Path(".")
    writable = os.access(rejects, os.W_OK) if rejects.exists() else os.access(folder, os.W_OK)
    if not writable or rejects.is_dir():
        raise ImportFailed(f"cannot write the rejects file {rejects}; pass --rejects PATH")
    return rejects


def _owners(
    conn: Connection, options: CameraImportOptions
) -> tuple[uuid.UUID | None, OwnerDirectory | None]:
    """The one owner of every row (--owner), or a directory to look each row's owner up in."""
    if options.owner is None:
        return None, OwnerDirectory.load(conn, options.create_owners)
    try:
        condition = Organization.id == uuid.UUID(options.owner)
    except ValueError:
        condition = Organization.slug == options.owner
    owner_id = conn.execute(select(Organization.id).where(condition)).scalar_one_or_none()
    if owner_id is None:
        raise ImportFailed(
            f"no organization {options.owner!r}; create it (c4hub import organizations, or "
            "POST /api/v1/organizations) or use --owner-column with --create-owners KIND"
        )
    return owner_id, None


class _Validators:
    """Row validators by column set: one for a CSV file, one per property set for GeoJSON."""

    def __init__(self, table: Table, options: CameraImportOptions) -> None:
        self._options = options
        self._geojson = table.kind == "geojson"
        self._by_headers: dict[tuple[str, ...], RowValidator] = {}
        self._ignored: dict[str, None] = {}
        # named columns a GeoJSON feature may lack: they read as empty there
        self._named = [*options.mapping.values()]
        if options.owner_column:
            self._named.append(options.owner_column)
        # a CSV file has one set of columns: plan it now, so missing ones fail before any work
        self._csv = None if self._geojson else self.get(table.headers)

    def get(self, headers: tuple[str, ...]) -> RowValidator:
        validator = self._by_headers.get(headers)
        if validator is None:
            if len(self._by_headers) >= MAX_PLANS:
                self._by_headers.clear()
            plan = plan_columns(
                headers,
                self._options.mapping,
                self._options.owner_column,
                geometry_coordinates=self._geojson,
            )
            validator = RowValidator(
                plan, purpose=self._options.purpose, adapter=self._options.adapter
            )
            self._by_headers[headers] = validator
            self._ignored.update(dict.fromkeys(plan.ignored))
        return validator

    def validate(self, record: Record) -> CameraRow:
        if not self._geojson:
            if len(record.values) != len(record.headers):
                raise RowError(
                    f"has {len(record.values)} fields but the header has {len(record.headers)}; "
                    "look for a stray delimiter or quote"
                )
            assert self._csv is not None
            return self._csv.validate(record.values)
        headers, values = record.headers, record.values
        missing = [c for c in self._named if c not in headers]
        if missing:
            headers, values = (*headers, *missing), [*values, *([None] * len(missing))]
        point = point_of(record.geometry)
        return self.get(headers).validate(values, point)

    def ignored(self) -> list[str]:
        return list(self._ignored)


@dataclass
class _Streamed:
    rejected: int = 0
    external_ids: bool = False  # whether any staged row has one (else skip the repeat checks)


def _create_staging(conn: Connection) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in STAGING_COLUMNS)
    conn.execute(text(f"DROP TABLE IF EXISTS pg_temp.{STAGING}"))
    conn.execute(text(f"CREATE TEMP TABLE {STAGING} ({columns}) ON COMMIT DROP"))


def _stream(
    conn: Connection,
    table: Table,
    validators: _Validators,
    owner_id: uuid.UUID | None,
    directory: OwnerDirectory | None,
    options: CameraImportOptions,
    progress: Callable[[int], None] | None,
) -> _Streamed:
    """COPY every record into staging: valid ones in full, rejected ones as line and reason."""
    streamed = _Streamed()
    raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    columns = ", ".join(name for name, _ in STAGING_COLUMNS)
    batch: list[tuple[int, str, CameraRow]] = []
    owner_texts: dict[uuid.UUID, str] = {}  # ids as text: psycopg's UUID dumper is slow
    with raw.cursor() as cursor, cursor.copy(f"COPY {STAGING} ({columns}) FROM STDIN") as copy:
        for count, record in enumerate(table.records()):
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(table.position())
            try:
                row = validators.validate(record)
                owner = owner_id
                if owner is None:
                    assert directory is not None and row.owner is not None
                    owner = directory.resolve(row.owner)
            except RowError as exc:
                if not options.skip_invalid:
                    raise ImportFailed(f"{table.unit} {record.number}: {exc}") from None
                copy.write_row((record.number, str(exc), *_REJECT_PADDING))
                streamed.rejected += 1
                continue
            streamed.external_ids = streamed.external_ids or row.external_id is not None
            text_id = owner_texts.get(owner) or owner_texts.setdefault(owner, str(owner))
            batch.append((record.number, text_id, row))
            if len(batch) >= BATCH:
                _write_batch(copy, batch)
                batch.clear()
        _write_batch(copy, batch)
    if progress is not None:
        progress(table.position())
    conn.execute(text(f"ANALYZE pg_temp.{STAGING}"))  # temporary tables are never auto-analyzed
    return streamed


def array_literal(items: Sequence[str]) -> str:
    """A PostgreSQL text[] literal: cheaper to build here than through psycopg's list dumper."""
    if not items:
        return "{}"
    quoted = (item.replace("\\", "\\\\").replace('"', '\\"') for item in items)
    return "{" + ",".join(f'"{item}"' for item in quoted) + "}"


def _write_batch(copy: psycopg.Copy, batch: Sequence[tuple[int, str, CameraRow]]) -> None:
    footprints = footprints_hex([row for _, _, row in batch])
    for (line, owner, row), fov in zip(batch, footprints, strict=True):
        # row[1:-2] runs from external_id to retention_days; tags and units follow
        copy.write_row((line, None, owner, *row[1:-2], array_literal(row.tags), row.units, fov))


def _mark_repeats(conn: Connection, unit: str, external_ids: bool) -> int:
    """Mark repeated external ids (in the file, then against the database); how many."""
    if not external_ids:
        return 0
    marked = 0
    if conn.execute(text(_ANY_REPEATS)).scalar_one():
        marked += conn.execute(text(_MARK_REPEATS), {"unit": unit}).rowcount
    marked += conn.execute(text(_MARK_EXISTING)).rowcount
    return marked


def _first_reject(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        text(
            f"SELECT line, reason FROM pg_temp.{STAGING} "
            "WHERE reason IS NOT NULL ORDER BY line LIMIT 1"
        )
    ).one()
    return row.line, row.reason


def _per_owner(conn: Connection) -> dict[uuid.UUID, tuple[int, int]]:
    """Records and units that will be imported, by owner."""
    rows = conn.execute(
        text(
            f"SELECT owner_id, count(*) AS records, sum(units) AS units "
            f"FROM pg_temp.{STAGING} WHERE reason IS NULL GROUP BY owner_id"
        )
    )
    return {r.owner_id: (r.records, r.units) for r in rows}


# What a bulk load drops and re-creates: the indexes that only speed up searches, and the
# foreign keys (quoted names, so they can be spliced into DDL as they are)
_SECONDARY_INDEXES = """
SELECT quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'cameras'::regclass AND NOT i.indisunique AND NOT i.indisprimary
"""
_FOREIGN_KEYS = """
SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid = 'cameras'::regclass AND contype = 'f'
"""


def _insert(conn: Connection, rows: int) -> None:
    """INSERT … SELECT from staging; a bulk load drops and rebuilds the secondary indexes.

    Updating three GiST indexes row by row costs more than the rows themselves; building them
    afresh after the load is about twice as fast. That pays when the import at least doubles the
    table, and is what pg_restore does; the price is that DROP INDEX locks the cameras table
    until the import commits. Unique indexes and the primary key stay: they keep the data right.
    """
    if rows < BULK_MIN_ROWS or _table_has(conn, rows):
        conn.execute(text(INSERT_CAMERAS))
        return
    indexes = conn.execute(text(_SECONDARY_INDEXES)).all()
    foreign_keys = conn.execute(text(_FOREIGN_KEYS)).all()
    for fk in foreign_keys:
        conn.execute(text(f"ALTER TABLE cameras DROP CONSTRAINT {fk.name}"))
    for index in indexes:
        conn.execute(text(f"DROP INDEX {index.name}"))
    conn.execute(text(INSERT_CAMERAS))
    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{BULK_INDEX_MEMORY}'"))
    for index in indexes:
        conn.execute(text(index.definition))
    for fk in foreign_keys:  # re-adding checks every row in one join instead of per row
        conn.execute(text(f"ALTER TABLE cameras ADD CONSTRAINT {fk.name} {fk.definition}"))


def _table_has(conn: Connection, rows: int) -> bool:
    """Whether cameras holds at least `rows` rows (counting no further)."""
    query = "SELECT count(*) FROM (SELECT FROM cameras LIMIT :rows) AS head"
    return bool(conn.execute(text(query), {"rows": rows}).scalar_one() >= rows)


def _write_rejects(conn: Connection, table: Table, path: Path) -> None:
    """line, reason and the original fields of each rejected record, in file order.

    Staging keeps only line and reason, so a second pass over the file fetches the fields:
    both streams are in line order, so they merge without holding either in memory.
    """
    rejected = conn.execute(
        text(
            f"SELECT line, reason FROM pg_temp.{STAGING} WHERE reason IS NOT NULL ORDER BY line"
        ).execution_options(stream_results=True, max_row_buffer=1000)
    )
    pending = iter(rejected)
    with rejected, path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "reason", *table.reject_headers()])
        wanted = next(pending, None)
        if wanted is None:
            return
        for record in table.records():
            if record.number != wanted.line:
                continue
            writer.writerow([record.number, wanted.reason, *table.reject_fields(record)])
            wanted = next(pending, None)
            if wanted is None:
                return
