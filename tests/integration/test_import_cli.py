"""`c4hub import` as a user runs it: a subprocess against its own database, committing."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support import fresh_database

C4HUB = str(Path(sys.executable).parent / "c4hub")


@pytest.fixture(scope="module")
def cli_database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def c4hub(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "C4HUB_DATABASE_URL": url}
    return subprocess.run(
        [C4HUB, "import", *args], env=env, capture_output=True, text=True, timeout=120
    )


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(sql).fetchall()


def test_seoul_districts_then_gangnam_cameras(cli_database: str, data_dir: Path) -> None:
    seoul = data_dir / "seoul"
    done = c4hub(cli_database, "organizations", str(seoul / "seoul_gu_2013.geojson"),
                 "--kind", "district")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"imported 25 organizations \(25 created, 0 updated\) in \d+\.\d s\n",
                        done.stdout)  # fmt: skip

    done = c4hub(cli_database, "cameras", str(seoul / "gangnam_cctv.csv"),
                 "--owner-column", "mng_name", "--create-owners", "district")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"imported 1763 records \(4742 units\) for 6 owners in \d+\.\d s\n",
                        done.stdout)  # fmt: skip
    assert "columns not imported: mng_phone" in done.stderr
    assert "created 6 organizations (district): org-" in done.stderr
    # committed: another connection sees it
    assert query(cli_database, "SELECT count(*), sum(units) FROM cameras") == [(1763, 4742)]


def test_timings_are_one_json_line(cli_database: str, tmp_path: Path) -> None:
    path = tmp_path / "cams.csv"
    path.write_text("lat,lon,agency\n37.5,127.0,Timed Agency\n")
    done = c4hub(cli_database, "cameras", str(path), "--owner-column", "agency",
                 "--create-owners", "district", "--timings")  # fmt: skip
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("timings: ")]
    timings = json.loads(line.removeprefix("timings: "))
    assert timings["bulk"] is False
    assert set(timings) == {"bulk", "copy", "settle", "indexes", "rejects", "total"}
    assert all(isinstance(v, float) and v >= 0 for k, v in timings.items() if k != "bulk")


def test_errors_are_one_line_with_the_fix(cli_database: str, tmp_path: Path) -> None:
    bad = tmp_path / "cams.csv"
    bad.write_text("lat,lon,agency\n37.5,127.0,Somebody\n37.5,127.0,\n")
    before = query(cli_database, "SELECT count(*) FROM organizations")
    cases = [
        (("cameras", str(tmp_path / "nope.csv"), "--owner", "x"), "no such file; check the path"),
        (("cameras", str(bad), "--owner-column", "agency", "--map", "height=h"),
         "--map: unknown field 'height'; fields: lat, lon,"),
        (("cameras", str(bad), "--owner-column", "agency", "--create-owners", "district"),
         "line 3: agency is empty (it names the owner)"),
        (("cameras", str(bad)), "pass exactly one of --owner ORG"),
        (("cameras", str(bad), "--owner-column", "agency", "--create-owners", "guild"),
         "--create-owners: unknown value 'guild'; use one of: municipality"),
        (("organizations", str(bad), "--kind", "district"), "is not GeoJSON"),
    ]  # fmt: skip
    for args, reason in cases:
        done = c4hub(cli_database, *args)
        assert done.returncode == 1, (args, done.stdout)
        assert done.stdout == ""
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], lines
    # the aborted import created no organization for "Somebody"
    assert query(cli_database, "SELECT count(*) FROM organizations") == before


def test_unreachable_database(tmp_path: Path) -> None:
    path = tmp_path / "cams.csv"
    path.write_text("lat,lon\n37.5,127.0\n")
    done = c4hub("postgresql+psycopg://postgres@127.0.0.1:9/none", "cameras", str(path),
                 "--owner", "x")  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot reach the database")
    assert "C4HUB_DATABASE_URL" in done.stderr and len(done.stderr.splitlines()) == 1


def test_help_has_examples() -> None:
    for command in ("cameras", "organizations"):
        done = subprocess.run([C4HUB, "import", command, "--help"], capture_output=True,
                              text=True, env={**os.environ, "COLUMNS": "100"})  # fmt: skip
        assert done.returncode == 0
        assert "Examples:" in done.stdout and f"c4hub import {command} " in done.stdout
