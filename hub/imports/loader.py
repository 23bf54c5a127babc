"""Camera import: validate records in Python, COPY the cameras, settle repeated ids in SQL.

1. Each record is validated in Python (hub.imports.rows); the cameras, with ids and footprints
   made in Python, stream to the server in a binary COPY (hub.imports.encoding, .footprints).
   A small import goes to a temporary staging table. A bulk load (_start) goes straight into
   cameras with most of its indexes dropped, so that the server stores rows while Python reads
   the next ones, and nothing is written twice.
2. The (line, id) of each camera with an external id goes to a temporary file, and any rejected
   record's line and reason to another (--skip-invalid; else the first one stops the import).
3. Settling (_settle): new owners are inserted, then the staged cameras into cameras, or for a
   bulk load the unique index on (owner_id, external_id) is built. Either fails on a repeated
   external id, and only then does SQL look for repeats, by line: in the file the first one
   wins, and a camera the owner had before the import wins over the file's. The first repeat
   stops the import; with --skip-invalid the repeats are deleted and rejected instead.
4. A bulk load rebuilds the other indexes it dropped and the foreign keys.
All of it runs in a savepoint: an import that fails leaves nothing behind, organizations
included. The caller commits.
"""

import csv
import heapq
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, Any, NamedTuple

import psycopg
from psycopg.types.string import BytesBinaryDumper
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import IntegrityError

from hub.imports.encoding import (
    COPY_HEADER,
    COPY_TRAILER,
    RAW,
    CameraIds,
    key_rows,
    point_ewkb,
    split_ids,
    text_array,
)
from hub.imports.errors import ImportFailed
from hub.imports.footprints import footprints_ewkb
from hub.imports.owners import NewOwner, OwnerDirectory
from hub.imports.readers import Record, Table, open_table
from hub.imports.rows import CameraRow, RowError, RowValidator, plan_columns, point_of
from hub.registry.models import Organization
from schemas.enums import AdapterKind, CameraPurpose, OrganizationKind

STAGING = "c4hub_import_staging"  # a small import's cameras, until they join the table
KEYS = "c4hub_import_keys"  # (line, id) of the imported cameras with an external id
REPEATS = "c4hub_import_repeats"  # imported cameras whose external id repeats, with the reason
BATCH = 2000  # rows per COPY batch: ids and footprints are made a batch at a time
PROGRESS_EVERY = 4096  # records between progress reports
MAX_PLANS = 256  # distinct GeoJSON property sets whose column plans are kept
BULK_MIN_ROWS = 100_000  # from here an import into a smaller table loads straight into it
BULK_INDEX_MEMORY = "256MB"  # for the index builds after a bulk load, this transaction only

# The columns a COPY writes and the type psycopg encodes each as; RAW ones are encoded here.
COPY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", RAW),
    ("owner_id", RAW),
    ("external_id", "text"),
    ("name", "text"),
    ("purpose", "text"),
    ("legal_basis", "text"),
    ("location", RAW),
    ("heading_deg", "float8"),
    ("fov_deg", "float8"),
    ("range_m", "float8"),
    ("mount_height_m", "float8"),
    ("ptz", "bool"),
    ("vendor", "text"),
    ("model", "text"),
    ("firmware", "text"),
    ("install_year", "int4"),
    ("ai_capable", "bool"),
    ("adapter", "text"),
    ("stream_uri", "text"),
    ("snapshot_uri", "text"),
    ("device_uri", "text"),
    ("status", "text"),
    ("last_seen_at", "timestamptz"),
    ("retention_days", "int4"),
    ("tags", RAW),
    ("units", "int4"),
    ("fov", RAW),
)

# What a bulk load drops and builds again afterwards (names quoted, to be spliced into DDL):
# the foreign keys, checked per row during a COPY but in one join when added back, and every
# index but the primary key and the GiST indexes that cannot be built sorted. GiST support
# function 11 is sortsupport: with it an index is built from sorted rows, several times faster
# than inserting them one by one; without it (the geography index) building it inserts row by
# row anyway, so it stays, and its upkeep runs on the server while Python parses the file.
_DROPPED_INDEXES = """
SELECT quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS definition,
       i.indisunique AS is_unique
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE i.indrelid = 'cameras'::regclass AND NOT i.indisprimary
  AND NOT (a.amname = 'gist' AND EXISTS (
    SELECT FROM unnest(i.indclass::oid[]) AS k(opclass) JOIN pg_opclass o ON o.oid = k.opclass
    WHERE NOT EXISTS (
      SELECT FROM pg_amproc p WHERE p.amprocfamily = o.opcfamily AND p.amprocnum = 11)))
"""
_FOREIGN_KEYS = """
SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid = 'cameras'::regclass AND contype = 'f'
"""


def _find_repeats_sql(target: str) -> str:
    """The imported cameras (rows of `target` listed in KEYS) whose external id repeats one
    earlier in the file, or one a camera had before the import, each with the reason."""
    return f"""
CREATE TEMP TABLE {REPEATS} ON COMMIT DROP AS
WITH imported AS (
  SELECT k.line, t.id, t.owner_id, t.external_id, t.units,
         min(k.line) OVER (PARTITION BY t.owner_id, t.external_id) AS first_line
  FROM pg_temp.{KEYS} k JOIN {target} t ON t.id = k.id),
existing AS (
  SELECT DISTINCT c.owner_id, c.external_id
  FROM cameras c JOIN imported i ON c.owner_id = i.owner_id AND c.external_id = i.external_id
  WHERE NOT EXISTS (SELECT FROM pg_temp.{KEYS} k WHERE k.id = c.id))
SELECT i.line, i.id, i.owner_id, i.units,
       CASE WHEN i.line > i.first_line
         THEN format('external_id %L repeats %s %s; give each camera its own id',
                     i.external_id, CAST(:unit AS text), i.first_line)
         ELSE format('%s already has a camera with external_id %L; drop the row or change '
                     'that camera through the API', o.slug, i.external_id)
       END AS reason
FROM imported i
LEFT JOIN existing e ON e.owner_id = i.owner_id AND e.external_id = i.external_id
LEFT JOIN organizations o ON o.id = i.owner_id
WHERE i.line > i.first_line OR e.owner_id IS NOT NULL
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
    bulk: bool = False  # loaded straight into cameras (_start)
    seconds: dict[str, float] = field(default_factory=dict)  # by phase, see _Phases


class _Phases:
    """Seconds spent in each phase of an import: copy (reading, checking and sending the
    file), settle (new owners, repeated ids), indexes (rebuilt after a bulk load), rejects."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(now - self._last, 3)
        self._last = now


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
    phases = _Phases()
    with (
        open_table(path, options.encoding) as table,
        tempfile.TemporaryFile() as keys,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool,
    ):
        validators = _Validators(table, options)
        owner_id, directory = _owners(conn, options)
        reader = _Reader(table, validators, owner_id, directory, options.skip_invalid, spool)
        with conn.begin_nested():
            batches = reader.batches(progress)
            first = next(batches, [])  # enough of the file to tell a bulk load (_start)
            load = _start(conn, table, reader.records)
            _copy(conn, load.target, chain([first], batches), keys)
            phases.done("copy")
            created, repeats = _settle_repeats(
                conn, load, directory, reader.owners, keys, table.unit, options.skip_invalid
            )
            phases.done("settle")
            _rebuild(conn, load)
            phases.done("indexes")
            rejected = reader.rejected + repeats
            if rejects is not None and rejected:
                with closing(_rejected(conn, spool, repeats > 0)) as lines:
                    _write_rejects(table, rejects, lines)
            conn.execute(
                text(f"DROP TABLE IF EXISTS pg_temp.{STAGING}, pg_temp.{KEYS}, pg_temp.{REPEATS}")
            )
            phases.done("rejects")
    owners = [o for o in reader.owners.values() if o.records]
    return CameraImportResult(
        records=sum(o.records for o in owners),
        units=sum(o.units for o in owners),
        owners=len(owners),
        rejected=rejected,
        created_owners=[o.slug for o in created],
        ignored_columns=validators.ignored(),
        rejects_path=rejects if rejected else None,
        bulk=load.bulk,
        seconds=phases.seconds,
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


class _Owner:
    """An owner of imported cameras: its id, as COPY sends it, and how much the file gives it."""

    __slots__ = ("id", "raw", "records", "units")

    def __init__(self, owner_id: uuid.UUID) -> None:
        self.id = owner_id
        self.raw = owner_id.bytes
        self.records = 0
        self.units = 0


# A valid record on its way to COPY: line, owner id (16 bytes), camera.
_Valid = tuple[int, bytes, CameraRow]


class _Reader:
    """The file's valid records, in batches. A rejected record stops the import, or with
    --skip-invalid its line and reason go to the spool (a CSV file), in file order."""

    def __init__(
        self,
        table: Table,
        validators: _Validators,
        owner_id: uuid.UUID | None,
        directory: OwnerDirectory | None,
        skip_invalid: bool,
        spool: IO[str],
    ) -> None:
        self._table = table
        self._validators = validators
        self._owner_id = owner_id
        self._directory = directory
        self._skip_invalid = skip_invalid
        self._spool = csv.writer(spool)
        self.records = 0  # read so far
        self.rejected = 0
        self.owners: dict[uuid.UUID, _Owner] = {}
        self._by_cell: dict[str | None, _Owner] = {}  # owner column value → owner

    def batches(self, progress: Callable[[int], None] | None) -> Iterator[list[_Valid]]:
        table, validate, by_cell = self._table, self._validators.validate, self._by_cell
        batch: list[_Valid] = []
        for record in table.records():
            if progress is not None and self.records % PROGRESS_EVERY == 0:
                progress(table.position())
            self.records += 1
            try:
                row = validate(record)
                owner = by_cell.get(row.owner) or self._owner(row.owner)
            except RowError as exc:
                self._reject(record, exc)
                continue
            owner.records += 1
            owner.units += row.units
            batch.append((record.number, owner.raw, row))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
        if progress is not None:
            progress(table.position())

    def _owner(self, cell: str | None) -> _Owner:
        if self._directory is None:
            assert self._owner_id is not None
            owner_id = self._owner_id
        else:
            assert cell is not None
            owner_id = self._directory.resolve(cell)
        owner = self.owners.get(owner_id)
        if owner is None:
            owner = self.owners[owner_id] = _Owner(owner_id)
        self._by_cell[cell] = owner
        return owner

    def _reject(self, record: Record, exc: RowError) -> None:
        if not self._skip_invalid:
            raise ImportFailed(f"{self._table.unit} {record.number}: {exc}") from None
        self._spool.writerow((record.number, str(exc)))
        self.rejected += 1


class _Index(NamedTuple):
    name: str
    definition: str
    is_unique: bool


@dataclass(frozen=True)
class _Load:
    """Where the COPY writes, and for a bulk load what it dropped from cameras to restore."""

    target: str
    indexes: Sequence[_Index] = ()
    foreign_keys: Sequence[tuple[str, str]] = ()  # (name, definition)

    @property
    def bulk(self) -> bool:
        return self.target == "cameras"


def _start(conn: Connection, table: Table, records: int) -> _Load:
    """A bulk load straight into cameras, or a staging table for a small import.

    Bulk: at least BULK_MIN_ROWS records (estimated from the share of the file read so far) into
    a table that holds fewer. Inserting into a table with all its indexes costs several times
    more than building them afresh, as pg_restore does; the price is that DROP INDEX locks
    cameras until the import commits. The primary key stays: it is cheap to keep, ids ascending.
    """
    size, done = table.size(), table.position()
    estimate = records if done >= size else records * size // max(done, 1)
    if estimate < BULK_MIN_ROWS or _table_has(conn, estimate):
        conn.execute(text(f"DROP TABLE IF EXISTS pg_temp.{STAGING}"))
        conn.execute(
            text(f"CREATE TEMP TABLE {STAGING} (LIKE cameras INCLUDING DEFAULTS) ON COMMIT DROP")
        )
        return _Load(f"pg_temp.{STAGING}")
    indexes = [_Index(*row) for row in conn.execute(text(_DROPPED_INDEXES))]
    foreign_keys = [(fk.name, fk.definition) for fk in conn.execute(text(_FOREIGN_KEYS))]
    for name, _ in foreign_keys:
        conn.execute(text(f"ALTER TABLE cameras DROP CONSTRAINT {name}"))
    for index in indexes:
        conn.execute(text(f"DROP INDEX {index.name}"))
    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{BULK_INDEX_MEMORY}'"))
    return _Load("cameras", indexes, foreign_keys)


def _table_has(conn: Connection, rows: int) -> bool:
    """Whether cameras holds at least `rows` rows (counting no further)."""
    query = "SELECT count(*) FROM (SELECT FROM cameras LIMIT :rows) AS head"
    return bool(conn.execute(text(query), {"rows": rows}).scalar_one() >= rows)


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    return raw


def _copy(conn: Connection, target: str, batches: Iterable[list[_Valid]], keys: IO[bytes]) -> None:
    """COPY the cameras into `target`; (line, id) of those with an external id into `keys`."""
    ids = CameraIds()
    columns = ", ".join(name for name, _ in COPY_COLUMNS)
    with (
        _driver(conn).cursor() as cursor,
        cursor.copy(f"COPY {target} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        # by the bytea type psycopg picks a dumper of its own written in Python: use its C one
        cursor.adapters.register_dumper(None, BytesBinaryDumper)
        copy.set_types([kind for _, kind in COPY_COLUMNS])
        for batch in batches:
            rows = [row for _, _, row in batch]
            batch_ids = ids.take(len(batch))
            footprints = footprints_ewkb(rows)
            for (_, owner, row), camera_id, fov in zip(
                batch, split_ids(batch_ids), footprints, strict=True
            ):
                # row[1:5] runs from external_id to legal_basis, row[7:-2] from heading_deg
                # to retention_days: COPY_COLUMNS has them in the same order
                copy.write_row(
                    (
                        camera_id, owner, *row[1:5], point_ewkb(row.lon, row.lat), *row[7:-2],
                        text_array(row.tags), row.units, fov,
                    )
                )  # fmt: skip
            lines = [line for line, _, _ in batch]
            keys.write(key_rows(lines, batch_ids, [row.external_id is not None for row in rows]))


def _settle(
    conn: Connection, load: _Load, directory: OwnerDirectory | None, owners: dict[uuid.UUID, _Owner]
) -> list[NewOwner]:
    """Insert the new owners that keep cameras, then the staged cameras into cameras, or for a
    bulk load build the unique indexes. IntegrityError if an external id repeats."""
    created = []
    if directory is not None:
        created = directory.insert_new(conn, {o.id for o in owners.values() if o.records})
    if load.bulk:
        for index in load.indexes:
            if index.is_unique:
                conn.execute(text(index.definition))
    else:
        conn.execute(text(f"INSERT INTO cameras SELECT * FROM {load.target}"))
    return created


def _settle_repeats(
    conn: Connection,
    load: _Load,
    directory: OwnerDirectory | None,
    owners: dict[uuid.UUID, _Owner],
    keys: IO[bytes],
    unit: str,
    skip_invalid: bool,
) -> tuple[list[NewOwner], int]:
    """_settle; on a repeated external id, stop at the first by line, or with --skip-invalid
    delete the repeats and settle again. The new owners and how many cameras were repeats."""
    try:
        with conn.begin_nested():
            return _settle(conn, load, directory, owners), 0
    except IntegrityError as exc:
        if not isinstance(exc.orig, psycopg.errors.UniqueViolation):
            raise
        repeats = _find_repeats(conn, load.target, keys, unit)
        if not repeats:
            raise
    if not skip_invalid:
        first = text(f"SELECT line, reason FROM pg_temp.{REPEATS} ORDER BY line LIMIT 1")
        line, reason = conn.execute(first).one()
        raise ImportFailed(f"{unit} {line}: {reason}")
    conn.execute(text(f"DELETE FROM {load.target} t USING pg_temp.{REPEATS} r WHERE t.id = r.id"))
    lost = text(
        f"SELECT owner_id, count(*) AS records, sum(units) AS units "
        f"FROM pg_temp.{REPEATS} GROUP BY owner_id"
    )
    for row in conn.execute(lost):
        owners[row.owner_id].records -= row.records
        owners[row.owner_id].units -= row.units
    return _settle(conn, load, directory, owners), repeats


def _find_repeats(conn: Connection, target: str, keys: IO[bytes], unit: str) -> int:
    """Load the (line, id) file into KEYS, then list the repeats in REPEATS; how many."""
    conn.execute(text(f"DROP TABLE IF EXISTS pg_temp.{KEYS}, pg_temp.{REPEATS}"))
    conn.execute(text(f"CREATE TEMP TABLE {KEYS} (line integer, id uuid) ON COMMIT DROP"))
    keys.seek(0)
    with (
        _driver(conn).cursor() as cursor,
        cursor.copy(f"COPY {KEYS} FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.write(COPY_HEADER)
        while chunk := keys.read(1 << 20):
            copy.write(chunk)
        copy.write(COPY_TRAILER)
    conn.execute(text(f"ANALYZE pg_temp.{KEYS}"))  # temporary tables are never auto-analyzed
    return conn.execute(text(_find_repeats_sql(target)), {"unit": unit}).rowcount


def _rebuild(conn: Connection, load: _Load) -> None:
    """After a bulk load: the other indexes dropped for it, then the foreign keys."""
    for index in load.indexes:
        if not index.is_unique:
            conn.execute(text(index.definition))
    for name, definition in load.foreign_keys:
        conn.execute(text(f"ALTER TABLE cameras ADD CONSTRAINT {name} {definition}"))


def _rejected(
    conn: Connection, spool: IO[str], repeats: bool
) -> Generator[tuple[int, str], None, None]:
    """(line, reason) of every rejected record in file order: the spool and the repeats merged."""
    spool.seek(0)
    spooled = ((int(line), reason) for line, reason in csv.reader(spool))
    if not repeats:
        yield from spooled
        return
    query = text(f"SELECT line, reason FROM pg_temp.{REPEATS} ORDER BY line")
    with conn.execute(query.execution_options(stream_results=True, max_row_buffer=1000)) as found:
        yield from heapq.merge(spooled, ((row.line, row.reason) for row in found))


def _write_rejects(table: Table, path: Path, rejected: Iterable[tuple[int, str]]) -> None:
    """line, reason and the original fields of each rejected record, in file order.

    Only line and reason were kept, so a second pass over the file fetches the fields: both
    streams are in line order, so they merge without holding either in memory.
    """
    pending = iter(rejected)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "reason", *table.reject_headers()])
        wanted = next(pending, None)
        if wanted is None:
            return
        for record in table.records():
            if record.number != wanted[0]:
                continue
            writer.writerow([record.number, wanted[1], *table.reject_fields(record)])
            wanted = next(pending, None)
            if wanted is None:
                return
