"""Hotlist CSV import: streamed with COPY, all or nothing, the first bad row named by line;
`c4hub hotlists import` commits; a national list of a million rows loads and matches."""

import csv
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, func, select, text
from sqlalchemy.orm import Session

from hub.hotlists import service
from hub.hotlists.importer import ImportOptions, import_entries
from hub.hotlists.models import HotlistEntry
from hub.imports.errors import ColumnError, ImportFailed
from schemas.hotlists import Category, Tolerance
from tests.support import fresh_database

C4HUB = str(Path(sys.executable).parent / "c4hub")
HEADER = ["plate", "category", "reason", "legal_basis", "priority", "valid_until"]


def _write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(HotlistEntry)).scalar_one())


def test_a_good_file_is_loaded_with_its_fields(connection: Connection, tmp_path: Path) -> None:
    path = _write(tmp_path / "list.csv", [
        ["12 AB 34", "stolen", "reported stolen", "Art. 5", "1", ""],
        ["AMB119", "emergency", "ambulance", "Art. 9", "", "2099-01-01T00:00:00+09:00"],
    ])  # fmt: skip
    result = import_entries(connection, path, ImportOptions(source="national"))
    assert result.entries == 2
    rows = connection.execute(
        select(HotlistEntry.plate, HotlistEntry.key, HotlistEntry.kind, HotlistEntry.priority,
               HotlistEntry.valid_until).order_by(HotlistEntry.plate)
    ).all()  # fmt: skip
    assert [tuple(r[:4]) for r in rows] == [("12AB34", "12A834", "black", 1),
                                            ("AMB119", "AM8119", "white", 3)]  # fmt: skip
    assert rows[1].valid_until == datetime(2098, 12, 31, 15, tzinfo=UTC)


def test_a_bad_row_stops_the_import_with_its_line_and_loads_nothing(
    connection: Connection, tmp_path: Path
) -> None:
    good = [["12AB34", "stolen", "r", "l", "", ""]] * 5000  # more than one COPY batch
    path = _write(tmp_path / "bad.csv", [*good, ["12AB34", "lost", "r", "l", "", ""], *good])
    with pytest.raises(ImportFailed, match=r"^line 5002: unknown category 'lost'"):
        import_entries(connection, path, ImportOptions(source="national"))
    assert _count(connection) == 0
    quoted = _write(tmp_path / "short.csv", [["12AB34", "stolen", "r", "l", "", ""], ["X1"]])
    with pytest.raises(ImportFailed, match=r"^line 3: has 1 fields but the header has 6"):
        import_entries(connection, quoted, ImportOptions(source="national"))
    assert _count(connection) == 0


def test_missing_columns_are_refused_and_options_fill_them(
    connection: Connection, tmp_path: Path
) -> None:
    path = _write(tmp_path / "plates.csv", [["12AB34"], ["99XY99"]], header=["plate"])
    with pytest.raises(ColumnError, match="no category, reason, legal_basis column"):
        import_entries(connection, path, ImportOptions(source="fleet"))
    options = ImportOptions(
        source="fleet", category=Category.MUNICIPAL_FLEET, reason="city car",
        legal_basis="Parking bylaw 3", tolerance=Tolerance.CONFUSABLE,
    )  # fmt: skip
    assert import_entries(connection, path, options).entries == 2


def test_replace_swaps_a_sources_list(session: Session, tmp_path: Path) -> None:
    conn = session.connection()
    first = _write(tmp_path / "a.csv", [["11AA11", "stolen", "r", "l", "", ""]])
    second = _write(tmp_path / "b.csv", [["22BB22", "stolen", "r", "l", "", ""]])
    import_entries(conn, first, ImportOptions(source="national"))
    result = import_entries(conn, second, ImportOptions(source="national", replace=True))
    assert result.replaced == 1
    assert [e.plate for e in service.list_entries(session, service.EntryQuery()).items] == [
        "22BB22"
    ]


def test_cli_imports_and_commits_or_says_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "cli.csv", [["CLI001", "", "", "", "", ""]])
    args = [C4HUB, "hotlists", "import", str(path), "--source", "cli-test"]
    extra = ["--category", "watched", "--reason", "r", "--legal-basis", "l"]
    with fresh_database() as url:  # its own: the CLI commits
        env = {**os.environ, "C4HUB_DATABASE_URL": url}
        failed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        done = subprocess.run([*args, *extra], env=env, capture_output=True, text=True, timeout=60)
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT plate, category FROM hotlist_entries")).all()
        engine.dispose()
    assert failed.returncode == 1
    assert failed.stderr.strip() == "error: line 2: category is empty"
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported 1 entries from cli-test in ")
    assert [tuple(row) for row in stored] == [("CLI001", "watched")]


def _national(path: Path, rows: int) -> Path:
    """A national list: plates 7 characters, categories mixed, a tenth confusable."""
    categories = ["stolen", "wanted", "watched", "resident_exempt"]
    with path.open("w") as f:
        f.write("plate,category,reason,legal_basis,priority,tolerance\n")
        for n in range(rows):
            tolerance = "confusable" if n % 10 == 0 else "exact"
            f.write(
                f"{n:07d}AB,{categories[n % 4]},listed,National Act 7,{n % 5 + 1},{tolerance}\n"
            )
    return path


def test_a_million_row_national_list_imports_and_matches_fast(
    session: Session, tmp_path: Path
) -> None:
    path = _national(tmp_path / "national.csv", 1_000_000)
    conn = session.connection()
    started = time.perf_counter()
    result = import_entries(conn, path, ImportOptions(source="national"))
    seconds = time.perf_counter() - started
    assert result.entries == 1_000_000
    assert seconds < 120, f"import took {seconds:.1f} s"
    conn.execute(text("ANALYZE hotlist_entries"))
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert [e.plate for e in service.match(session, "0123450AB", now)] == ["0123450AB"]
    # entry 10 is confusable: O for 0 and 8 for B still match it
    assert [e.plate for e in service.match(session, "OOOOO1O A8".replace(" ", ""), now)] == [
        "0000010AB"
    ]
    timings = []
    for n in range(500):
        t = time.perf_counter()
        service.match(session, f"{n * 1999 % 1_000_000:07d}AB", now)
        timings.append(time.perf_counter() - t)
    p95 = sorted(timings)[int(len(timings) * 0.95)]
    assert p95 < 0.005, f"match p95 {p95 * 1000:.2f} ms"
