"""`c4hub import demand` and `c4hub import obstacles`: read the whole file, check every record,
then load all of them in the caller's transaction, or none with every bad record named."""

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from hub.coverage.models import DemandKind
from hub.imports.demand_rows import (
    DemandRow,
    check_default_weight,
    demand_row,
    error_summary,
    obstacle_ewkt,
    plan_columns,
)
from hub.imports.errors import ImportFailed, SourceError
from hub.imports.readers import Record, open_table
from hub.imports.rows import RowError

BATCH = 1000

_INSERT_DEMAND = text(
    "INSERT INTO demand_points (id, kind, name, weight, geom, source, line, properties) "
    "VALUES (:id, :kind, :name, :weight, ST_GeomFromEWKT(:ewkt), :source, :line, "
    "CAST(:properties AS jsonb))"
)
_INSERT_OBSTACLE = text(
    "INSERT INTO obstacles (id, geom, source) VALUES (:id, ST_GeomFromEWKT(:ewkt), :source)"
)


@dataclass(frozen=True)
class DemandImportOptions:
    kind: DemandKind
    weight: float = 1.0
    name_column: str | None = None
    weight_column: str | None = None
    encoding: str = "utf-8"
    # Load the good records and report the bad ones instead of refusing the file. Open data
    # has them: 29 rows of gangnam_public_wifi.csv are shifted by a column.
    skip_invalid: bool = False


@dataclass(frozen=True)
class DemandImportResult:
    points: int  # Point records
    areas: int  # Polygon / MultiPolygon records
    rejected: list[str]  # with skip_invalid: "line N: reason" per record left out


def _read_demand(path: Path, options: DemandImportOptions) -> tuple[list[DemandRow], list[str]]:
    rows: list[DemandRow] = []
    errors: list[str] = []
    with open_table(path, options.encoding) as table:
        columns = None
        for record in table.records():
            if columns is None or record.feature is not None:
                # GeoJSON features each bring their own properties, hence their own columns
                columns = plan_columns(
                    record.headers,
                    csv=table.kind == "csv",
                    name_column=options.name_column if table.kind == "csv" else None,
                    weight_column=options.weight_column,
                )
            try:
                rows.append(demand_row(record, columns, options.weight))
            except RowError as exc:
                errors.append(f"{table.unit} {record.number}: {exc}")
        if errors and not options.skip_invalid:
            raise ImportFailed(error_summary(errors, table.unit))
        if not rows:
            raise SourceError(f"{path}: no valid records; nothing to import")
    return rows, errors


def _payload(row: DemandRow, kind: DemandKind, source: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "kind": kind.value,
        "name": row.name,
        "weight": row.weight,
        "ewkt": row.ewkt,
        "source": source,
        "line": row.line,
        "properties": json.dumps(row.properties, ensure_ascii=False, default=str),
    }


def import_demand(conn: Connection, path: Path, options: DemandImportOptions) -> DemandImportResult:
    """Every record of the file as a demand point or area of `options.kind`, or none (with
    skip_invalid: every good record, the bad ones returned)."""
    check_default_weight(options.weight)
    rows, rejected = _read_demand(path, options)
    payloads = [_payload(row, options.kind, path.name) for row in rows]
    for start in range(0, len(payloads), BATCH):
        conn.execute(_INSERT_DEMAND, payloads[start : start + BATCH])
    points = sum(1 for row in rows if "POINT" in row.ewkt)
    return DemandImportResult(points=points, areas=len(rows) - points, rejected=rejected)


def _obstacle(record: Record) -> str:
    if record.feature is None:
        raise RowError("obstacles come from GeoJSON features with Polygon geometries")
    return obstacle_ewkt(record)


def import_obstacles(conn: Connection, path: Path) -> int:
    """Every feature of a GeoJSON file as an obstacle (building footprint), or none."""
    shapes: list[str] = []
    errors: list[str] = []
    with open_table(path) as table:
        if table.kind != "geojson":
            raise SourceError(f"{path}: obstacles are read from a GeoJSON FeatureCollection")
        for record in table.records():
            try:
                shapes.append(_obstacle(record))
            except RowError as exc:
                errors.append(f"feature {record.number}: {exc}")
    if errors:
        raise ImportFailed(error_summary(errors, "feature"))
    payloads = [{"id": uuid.uuid4(), "ewkt": ewkt, "source": path.name} for ewkt in shapes]
    for start in range(0, len(payloads), BATCH):
        conn.execute(_INSERT_OBSTACLE, payloads[start : start + BATCH])
    return len(payloads)
