"""Hotlist import: a CSV file (a national list of a million rows) streamed into
hotlist_entries with a binary COPY, all or nothing.

Each row is checked in Python as it is read (parse_row, pure); the first bad one stops the
import with `line N: reason`, and the savepoint the COPY ran in is rolled back, so nothing is
half-loaded. Ids are UUIDv7 ascending (hub.imports.encoding.CameraIds), appended to the
primary key's B-tree rather than scattered over it. The caller commits.

Peers whose agreement has hotlists out learn of it in the same transaction, in bulk: a
revocation of each replaced entry and the new entries (hub.hotlists.federation).
"""

import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import psycopg
from psycopg.types.string import BytesBinaryDumper
from sqlalchemy import Connection, delete
from sqlalchemy.orm import Session

from hub.hotlists import federation
from hub.hotlists.matching import clean_plate, confusion_key
from hub.hotlists.models import HotlistEntry
from hub.imports.encoding import RAW, CameraIds, split_ids
from hub.imports.errors import ColumnError, ImportFailed
from hub.imports.readers import open_table
from schemas.hotlists import Category, Tolerance

BATCH = 4096  # rows per batch of ids (CameraIds.take's limit)
MAX_TEXT = 500

COPY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", RAW),
    ("plate", "text"),
    ("key", "text"),
    ("kind", "text"),
    ("category", "text"),
    ("reason", "text"),
    ("legal_basis", "text"),
    ("priority", "int2"),
    ("valid_from", "timestamptz"),
    ("valid_until", "timestamptz"),
    ("source", "text"),
    ("tolerance", "text"),
    ("issuing_agency", "text"),
)
COLUMNS = ("plate", "category", "reason", "legal_basis", "priority", "valid_from")
COLUMNS_ALL = (*COLUMNS, "valid_until", "tolerance")


@dataclass(frozen=True)
class ImportOptions:
    source: str
    category: Category | None = None  # for every row, when the file has no category column
    reason: str | None = None  # default for rows without one
    legal_basis: str | None = None  # default for rows without one
    priority: int = 3
    tolerance: Tolerance = Tolerance.EXACT
    replace: bool = False  # delete the source's earlier entries first (a fresh list)
    issuing_agency: str | None = None  # who issued the list; None: this node's name


@dataclass(frozen=True)
class ImportResult:
    entries: int
    replaced: int
    seconds: float
    published: int = 0  # deliveries to peers written (entries x peers, revocations too)


# A parsed row in COPY_COLUMNS order without the id.
Row = tuple[str, str, str, str, str, str, int, datetime, datetime | None, str, str, str | None]


class Plan:
    """Where each field is in the file's rows, checked against the options once."""

    def __init__(self, headers: Sequence[str], options: ImportOptions) -> None:
        names = [h.strip().lower() for h in headers]
        self.at = {name: names.index(name) for name in COLUMNS_ALL if name in names}
        self.width = len(names)
        self.options = options
        needed = [
            name
            for name, default in (
                ("plate", None),
                ("category", options.category),
                ("reason", options.reason),
                ("legal_basis", options.legal_basis),
            )
            if name not in self.at and default is None
        ]
        if needed:
            raise ColumnError(
                f"the file has no {', '.join(needed)} column; add it or pass "
                + " ".join(f"--{n.replace('_', '-')} VALUE" for n in needed if n != "plate")
            )

    def cell(self, values: Sequence[object], name: str) -> str:
        at = self.at.get(name)
        return "" if at is None else str(values[at]).strip()


def _text(value: str, default: str | None, name: str) -> str:
    text = value or default or ""
    if not text:
        raise ValueError(f"{name} is empty")
    if len(text) > MAX_TEXT or "\x00" in text:
        raise ValueError(f"{name} must be at most {MAX_TEXT} characters, without NUL")
    return text


def _time(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} {value!r} needs a time zone offset, e.g. 2026-11-21T00:00:00Z")
    return moment.astimezone(UTC)


def parse_row(values: Sequence[object], plan: Plan, now: datetime) -> Row:
    """One CSV row as a hotlist entry; ValueError saying what is wrong with it."""
    if len(values) != plan.width:
        raise ValueError(
            f"has {len(values)} fields but the header has {plan.width}; "
            "look for a stray delimiter or quote"
        )
    options, cell = plan.options, plan.cell
    plate = clean_plate(cell(values, "plate"))
    text = cell(values, "category")
    category = _category(text) if text else options.category
    if category is None:
        raise ValueError("category is empty")
    priority = options.priority
    if text := cell(values, "priority"):
        if not text.isdigit() or not 1 <= int(text) <= 5:
            raise ValueError(f"priority {text!r} must be a whole number from 1 to 5")
        priority = int(text)
    tolerance = options.tolerance
    if text := cell(values, "tolerance"):
        tolerance = _tolerance(text)
    valid_from = _time(cell(values, "valid_from"), "valid_from") or now
    valid_until = _time(cell(values, "valid_until"), "valid_until")
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("valid_until must be after valid_from")
    return (
        plate,
        confusion_key(plate),
        category.kind.value,
        category.value,
        _text(cell(values, "reason"), options.reason, "reason"),
        _text(cell(values, "legal_basis"), options.legal_basis, "legal_basis"),
        priority,
        valid_from,
        valid_until,
        options.source,
        tolerance.value,
        options.issuing_agency,
    )


def _category(text: str) -> Category:
    try:
        return Category(text.lower())
    except ValueError:
        names = ", ".join(c.value for c in Category)
        raise ValueError(f"unknown category {text!r}; use one of: {names}") from None


def _tolerance(text: str) -> Tolerance:
    try:
        return Tolerance(text.lower())
    except ValueError:
        raise ValueError(f"unknown tolerance {text!r}; use exact or confusable") from None


def import_entries(
    conn: Connection, path: Path, options: ImportOptions, now: datetime | None = None
) -> ImportResult:
    """Load the CSV file's entries, all or nothing; ImportFailed (or another InventoryError)
    with a one-line reason, and nothing written, on the first bad row. The caller commits."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    with (
        open_table(path) as table,
        conn.begin_nested(),
        Session(bind=conn, join_transaction_mode="rollback_only") as session,
    ):
        if table.kind != "csv":
            raise ImportFailed(f"{path}: a hotlist is a CSV file with a header row")
        plan = Plan(table.headers, _with_agency(options, session))
        replaced = published = 0
        if options.replace:
            # only entries issued here: a peer's entries change only when their issuer says so
            published = federation.revoke_source(session, options.source, now)
            stmt = delete(HotlistEntry).where(
                HotlistEntry.source == options.source, HotlistEntry.origin_node_id.is_(None)
            )
            replaced = conn.execute(stmt).rowcount
        records = table.records()
        try:
            entries = _copy(conn, _batches(records, plan, now))
        finally:
            if isinstance(records, Generator):
                records.close()  # before the file is, also when a bad row stops the import
        published += federation.publish_imported(session, options.source, now)
    seconds = round(time.perf_counter() - started, 3)
    return ImportResult(entries, replaced, seconds, published)


def _with_agency(options: ImportOptions, session: Session) -> ImportOptions:
    if options.issuing_agency is not None:
        return options
    return replace(options, issuing_agency=federation.node_name(session))


def _batches(records: Iterator[Any], plan: Plan, now: datetime) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for record in records:
        try:
            batch.append(parse_row(record.values, plan, now))
        except ValueError as exc:
            raise ImportFailed(f"line {record.number}: {exc}") from None
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy(conn: Connection, batches: Iterator[list[Row]]) -> int:
    # SQLAlchemy types the driver's connection as Any-ish; it is psycopg's here
    raw = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
    ids = CameraIds()
    count = 0
    columns = ", ".join(name for name, _ in COPY_COLUMNS)
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY hotlist_entries ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        cursor.adapters.register_dumper(None, BytesBinaryDumper)  # psycopg's C one for bytea
        copy.set_types([kind for _, kind in COPY_COLUMNS])
        for batch in batches:
            for entry_id, row in zip(split_ids(ids.take(len(batch))), batch, strict=True):
                copy.write_row((entry_id, *row))
            count += len(batch)
    return count
