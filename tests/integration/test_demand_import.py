"""Demand points and areas from files: the Gangnam open data, bad rows, GeoJSON, the CLI."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from hub.coverage.models import DemandKind
from hub.imports.demand import DemandImportOptions, import_demand, import_obstacles
from hub.imports.errors import ColumnError, ImportFailed
from tests.support import fresh_database

C4HUB = str(Path(sys.executable).parent / "c4hub")


def rows(conn: Connection, sql: str) -> list[Any]:
    return list(conn.execute(text(sql)).all())


def data_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def good_lines(path: Path) -> tuple[list[int], list[int]]:
    """Lines whose latitude/longitude are numbers on the globe, and the others (worked out
    here independently of the importer: the open data has rows shifted by a column)."""
    good: list[int] = []
    bad: list[int] = []
    for line, row in enumerate(data_rows(path), start=2):
        try:
            ok = abs(float(row["latitude"])) <= 90 and abs(float(row["longitude"])) <= 180
        except ValueError:
            ok = False
        (good if ok else bad).append(line)
    return good, bad


def test_gangnam_wifi_and_parking(connection: Connection, data_dir: Path) -> None:
    wifi = data_dir / "seoul" / "gangnam_public_wifi.csv"
    parking = data_dir / "seoul" / "gangnam_public_parking.csv"
    (wifi_good, wifi_bad), (parking_good, parking_bad) = good_lines(wifi), good_lines(parking)
    assert len(wifi_bad) == 29 and len(parking_bad) == 1  # the files as published

    with pytest.raises(ImportFailed, match=f"29 bad records .*: line {wifi_bad[0]}: latitude"):
        import_demand(connection, wifi, DemandImportOptions(DemandKind.OTHER))

    first = import_demand(
        connection, wifi, DemandImportOptions(DemandKind.OTHER, 1, skip_invalid=True)
    )
    second = import_demand(
        connection, parking, DemandImportOptions(DemandKind.PARKING, 2.5, skip_invalid=True)
    )
    assert (first.points, first.areas) == (len(wifi_good), 0)
    assert [r.split(":")[0] for r in first.rejected] == [f"line {n}" for n in wifi_bad]
    assert (second.points, second.areas) == (len(parking_good), 0)
    assert second.rejected == [f"line {parking_bad[0]}: longitude 30000 is outside -180..180"]
    found = rows(
        connection,
        "SELECT kind, count(*), min(weight), max(weight) FROM demand_points GROUP BY kind "
        "ORDER BY kind",
    )
    assert found == [("other", first.points, 1, 1), ("parking", second.points, 2.5, 2.5)]
    # the first parking row, at its coordinates, named and with the rest as properties
    row = data_rows(parking)[0]
    (name, line, lon, lat, props) = rows(
        connection,
        "SELECT name, line, ST_X(geom), ST_Y(geom), properties FROM demand_points "
        "WHERE kind = 'parking' ORDER BY line LIMIT 1",
    )[0]
    assert (name, line) == (row["name"], 2)
    assert (lon, lat) == (float(row["longitude"]), float(row["latitude"]))
    assert props["type"] == row["type"] and "latitude" not in props
    # wifi rows have no name column: the place is the name
    assert rows(connection, "SELECT name FROM demand_points WHERE line = 2 AND kind = 'other'") == [
        (data_rows(wifi)[0]["place"],)
    ]


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


BAD_CSV = (
    "latitude,longitude,name,riders\n"
    "37.50,127.03,Good one,10\n"
    "abc,127.03,Bad latitude,10\n"
    "37.51,127.04,Good two,5\n"
    "37.52,,No longitude,5\n"
    "37.53,127.05,Zero weight,0\n"
    "95,127.05,Off the globe,1\n"
)


def test_bad_rows_are_listed_by_line_and_nothing_loads(
    connection: Connection, tmp_path: Path
) -> None:
    path = write(tmp_path / "bad.csv", BAD_CSV)
    options = DemandImportOptions(DemandKind.STATION, weight_column="riders")
    with pytest.raises(ImportFailed) as caught:
        import_demand(connection, path, options)
    message = str(caught.value)
    assert message.startswith("4 bad records (line numbers from the file): line 3: latitude")
    assert "line 5: longitude is empty" in message
    assert "line 6: weight 0 must be above 0" in message
    assert "line 7: latitude 95 is outside -90..90" in message
    assert "nothing was loaded" in message
    assert rows(connection, "SELECT count(*) FROM demand_points") == [(0,)]


def test_missing_columns_and_bad_default_weight(connection: Connection, tmp_path: Path) -> None:
    path = write(tmp_path / "plain.csv", "place,address\nSchool,Somewhere\n")
    with pytest.raises(ColumnError, match="no latitude/longitude columns"):
        import_demand(connection, path, DemandImportOptions(DemandKind.SCHOOL))
    good = write(tmp_path / "good.csv", "lat,lon\n37.5,127.0\n")
    with pytest.raises(ColumnError, match="--weight -1 must be a number above 0"):
        import_demand(connection, good, DemandImportOptions(DemandKind.SCHOOL, weight=-1))
    with pytest.raises(ColumnError, match="--name-column title: no such column"):
        import_demand(connection, good, DemandImportOptions(DemandKind.SCHOOL, name_column="title"))


def feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[127.0, 37.5], [127.001, 37.5], [127.001, 37.501], [127.0, 37.501], [127.0, 37.5]]
    ],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[127.0, 37.5], [127.001, 37.501], [127.001, 37.5], [127.0, 37.501], [127.0, 37.5]]
    ],
}


def test_geojson_points_and_areas(connection: Connection, tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature({"type": "Point", "coordinates": [127.0, 37.5]}, name="Gangnam stn", w=9),
            feature(SQUARE, name="Market square", w=3),
        ],
    }
    path = write(tmp_path / "places.geojson", json.dumps(doc))
    result = import_demand(
        connection, path, DemandImportOptions(DemandKind.MARKET, weight_column="w")
    )
    assert (result.points, result.areas) == (1, 1)
    found = rows(
        connection, "SELECT name, weight, GeometryType(geom), line FROM demand_points ORDER BY line"
    )
    assert found == [("Gangnam stn", 9, "POINT", 1), ("Market square", 3, "POLYGON", 2)]


def test_geojson_bad_features_are_named(connection: Connection, tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature({"type": "Point", "coordinates": [127.0, 37.5]}),
            feature(BOWTIE),
            feature({"type": "LineString", "coordinates": [[127, 37.5], [127.1, 37.5]]}),
        ],
    }
    path = write(tmp_path / "bad.geojson", json.dumps(doc))
    with pytest.raises(ImportFailed) as caught:
        import_demand(connection, path, DemandImportOptions(DemandKind.SCENIC))
    message = str(caught.value)
    assert "feature 2: geometry is invalid: Self-intersection" in message
    assert "feature 3: geometry must be a Point, Polygon or MultiPolygon, not LineString" in message
    assert rows(connection, "SELECT count(*) FROM demand_points") == [(0,)]


def test_obstacles_all_or_nothing(connection: Connection, tmp_path: Path) -> None:
    good = {"type": "FeatureCollection", "features": [feature(SQUARE), feature(SQUARE)]}
    assert import_obstacles(connection, write(tmp_path / "b.geojson", json.dumps(good))) == 2
    bad = {"type": "FeatureCollection", "features": [feature(SQUARE), feature(BOWTIE)]}
    with pytest.raises(ImportFailed, match="feature 2: geometry is invalid"):
        import_obstacles(connection, write(tmp_path / "bad.geojson", json.dumps(bad)))
    assert rows(connection, "SELECT count(*), min(GeometryType(geom)) FROM obstacles") == [
        (2, "MULTIPOLYGON")
    ]


def c4hub(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "C4HUB_DATABASE_URL": url}
    return subprocess.run(
        [C4HUB, "import", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_imports_parking_and_refuses_bad_rows(data_dir: Path, tmp_path: Path) -> None:
    parking = data_dir / "seoul" / "gangnam_public_parking.csv"
    with fresh_database() as url:
        done = c4hub(url, "demand", str(parking), "--kind", "parking", "--weight", "2")
        assert done.returncode != 0
        assert done.stderr == (
            "error: 1 bad record (line numbers from the file): line 36: longitude 30000 is "
            "outside -180..180; fix them and import again (nothing was loaded)\n"
        )
        done = c4hub(url, "demand", str(parking), "--kind", "parking", "--skip-invalid")
        assert done.returncode == 0, done.stderr
        count = len(data_rows(parking)) - 1
        assert done.stdout.startswith(f"imported {count} demand points and 0 demand areas")
        assert done.stdout.rstrip().endswith("; rejected 1 record")
        assert done.stderr == "rejected line 36: longitude 30000 is outside -180..180\n"

        bad = write(tmp_path / "bad.csv", BAD_CSV)
        done = c4hub(url, "demand", str(bad), "--kind", "station")
        assert done.returncode != 0
        assert done.stderr.startswith("error: 3 bad records (line numbers from the file): line 3:")
        assert done.stderr.count("\n") == 1  # one line

        done = c4hub(url, "demand", str(bad), "--kind", "harbour")
        assert done.returncode != 0 and "--kind: unknown value 'harbour'" in done.stderr
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            assert conn.execute("SELECT count(*) FROM demand_points").fetchone() == (count,)
