"""Streaming readers for inventory files: CSV (any delimiter) and GeoJSON FeatureCollections.

Neither loads the file whole: CSV goes row by row through the csv module, GeoJSON feature by
feature through ijson, so memory stays flat whatever the file's size.
"""

import codecs
import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, NamedTuple

import ijson

from hub.imports.errors import SourceError

SNIFF_BYTES = 16 * 1024
DELIMITERS = ",;\t|"


class Record(NamedTuple):
    """One row (CSV) or feature (GeoJSON), numbered from the file: line or feature number."""

    number: int
    headers: tuple[str, ...]
    values: list[object]
    geometry: object = None  # GeoJSON only: the feature's geometry member
    feature: dict[str, object] | None = None


@dataclass
class Table:
    """An open inventory file: its format and a stream of its records."""

    kind: Literal["csv", "geojson"]
    path: Path
    encoding: str
    binary: BinaryIO
    headers: tuple[str, ...] = ()  # CSV only; GeoJSON features each bring their own
    delimiter: str = ","

    @property
    def unit(self) -> str:
        """What a record number counts, for messages: `line 12`, `feature 3`."""
        return "line" if self.kind == "csv" else "feature"

    def position(self) -> int:
        """Bytes read so far, for progress."""
        return self.binary.tell()

    def size(self) -> int:
        return self.path.stat().st_size

    def records(self) -> Iterator[Record]:
        """The records from the start of the file (callable again for a second pass)."""
        self.binary.seek(0)
        if self.kind == "csv":
            return _csv_records(self)
        return _features(self)

    def reject_headers(self) -> list[str]:
        """The columns that carry a rejected record's original content."""
        return list(self.headers) if self.kind == "csv" else ["feature"]

    def reject_fields(self, record: Record) -> list[str]:
        if self.kind == "csv":
            return [str(v) for v in record.values]
        return [json.dumps(record.feature, ensure_ascii=False, default=str)]


def _kind(path: Path, binary: BinaryIO) -> Literal["csv", "geojson"]:
    if path.suffix.lower() in {".geojson", ".json"}:
        return "geojson"
    head = binary.read(SNIFF_BYTES).lstrip(codecs.BOM_UTF8).lstrip()
    binary.seek(0)
    return "geojson" if head.startswith(b"{") else "csv"


@contextmanager
def open_table(path: Path, encoding: str = "utf-8") -> Iterator[Table]:
    """Open a CSV or GeoJSON inventory (by extension, else by content); SourceError if unusable."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}; try utf-8, cp949 or euc-kr") from None
    if not path.exists():
        raise SourceError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise SourceError(f"{path} is a directory; give the inventory file")
    try:
        binary = path.open("rb")
    except OSError as exc:
        reason = exc.strerror or exc
        raise SourceError(f"{path}: cannot open it ({reason}); check its permissions") from None
    with binary:
        kind = _kind(path, binary)
        table = Table(kind, path, encoding, binary)
        if kind == "csv":
            table.delimiter, table.headers = _csv_head(table)
        yield table


def _decode_error(table: Table, where: str, exc: UnicodeError) -> SourceError:
    """The encoding error, placed on its physical line when the bytes allow it."""
    located = _undecodable_line(table)
    if located is not None:
        line, column = located
        where, reason = f"line {line}", f"undecodable bytes at byte {column} of the line"
    else:
        reason = str(exc.reason if isinstance(exc, UnicodeDecodeError) else exc)
    return SourceError(
        f"{where}: the file is not valid {table.encoding} ({reason}); "
        "pass its encoding with --encoding (Korean files are often cp949) or re-save it as UTF-8"
    )


def _undecodable_line(table: Table) -> tuple[int, int] | None:
    """(line, byte) of the first line that does not decode. Text decodes in blocks, so the
    error itself only says which block; this second look is paid on the error path only."""
    table.binary.seek(0)
    decoder = codecs.getincrementaldecoder(table.encoding)()
    for number, raw in enumerate(table.binary, start=1):
        try:
            decoder.decode(raw)
        except UnicodeDecodeError as exc:
            return number, exc.start + 1
    return None


def _text(table: Table) -> io.TextIOWrapper:
    # utf-8-sig drops a byte-order mark; newline="" as the csv module requires
    encoding = "utf-8-sig" if codecs.lookup(table.encoding).name == "utf-8" else table.encoding
    return io.TextIOWrapper(table.binary, encoding=encoding, newline="")


def _csv_head(table: Table) -> tuple[str, tuple[str, ...]]:
    """The delimiter (sniffed from the first lines) and the header row."""
    sample_bytes = table.binary.read(SNIFF_BYTES)
    table.binary.seek(0)
    if len(sample_bytes) == SNIFF_BYTES and b"\n" in sample_bytes:
        sample_bytes = sample_bytes[: sample_bytes.rindex(b"\n")]  # whole lines only
    try:
        sample = _text_of(sample_bytes, table.encoding)
    except UnicodeError as exc:
        raise _decode_error(table, "line 1", exc) from None
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","  # one column, or too little text to tell
    for record in _csv_rows(table, delimiter):
        return delimiter, tuple(str(v).strip() for v in record.values)
    raise SourceError(f"{table.path} is empty; expected a header row and then one row per camera")


def _text_of(data: bytes, encoding: str) -> str:
    if codecs.lookup(encoding).name == "utf-8":
        return data.decode("utf-8-sig")
    return data.decode(encoding)


def _csv_rows(table: Table, delimiter: str) -> Iterator[Record]:
    """Every non-blank row, with the line it starts on (header included)."""
    table.binary.seek(0)
    text = _text(table)
    reader = csv.reader(text, delimiter=delimiter)
    line = 1
    try:
        for values in reader:
            if values and any(values):
                yield Record(line, table.headers, list(values))
            line = reader.line_num + 1
    except UnicodeError as exc:
        raise _decode_error(table, f"line {line}", exc) from None
    except csv.Error as exc:
        raise SourceError(f"line {line}: unreadable CSV ({exc}); fix that line") from None
    finally:
        text.detach()  # leave the binary file open for a second pass


def _csv_records(table: Table) -> Iterator[Record]:
    rows = _csv_rows(table, table.delimiter)
    next(rows, None)  # the header
    yield from rows


def _features(table: Table) -> Iterator[Record]:
    number = 0
    try:
        for item in ijson.items(table.binary, "features.item", use_float=True):
            number += 1
            if not isinstance(item, dict):
                raise SourceError(f"feature {number}: not a GeoJSON Feature object")
            properties = item.get("properties") or {}
            if not isinstance(properties, dict):
                raise SourceError(f"feature {number}: properties must be an object")
            if "id" in item and "id" not in properties:
                # the Feature's own id is the natural external id
                properties = {"id": item["id"], **properties}
            yield Record(
                number,
                tuple(properties),
                list(properties.values()),
                item.get("geometry"),
                item,
            )
    except ijson.JSONError as exc:
        raise SourceError(
            f"feature {number + 1}: the file is not valid JSON ({exc}); fix it or re-export it"
        ) from None
    except UnicodeError as exc:
        raise _decode_error(table, f"feature {number + 1}", exc) from None
    if number == 0:
        raise SourceError(
            f"{table.path}: no features found; expected a GeoJSON FeatureCollection "
            '({"type": "FeatureCollection", "features": [...]})'
        )
