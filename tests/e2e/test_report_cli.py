"""`c4hub report survey` as a planner runs it, on the real Gangnam cameras and districts."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import DATA, fresh_database

C4HUB = str(Path(sys.executable).parent / "c4hub")
SEOUL = DATA / "seoul"


def run(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [C4HUB, *map(str, args)], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@pytest.fixture(scope="module")
def env() -> Iterator[dict[str, str]]:
    """A database holding Seoul's districts and Gangnam's public cameras, as imported."""
    with fresh_database() as url:
        environ = {**os.environ, "C4HUB_DATABASE_URL": url}
        steps = [
            ("import", "organizations", SEOUL / "seoul_gu_2013.geojson", "--kind", "district",
             "--slug-property", "name_eng"),
            ("import", "cameras", SEOUL / "gangnam_cctv.csv", "--owner-column", "mng_name",
             "--create-owners", "district"),
        ]  # fmt: skip
        for step in steps:
            done = run(environ, *step)
            assert done.returncode == 0, done.stderr
        yield environ


def _cells(page: str, table: str) -> list[list[str]]:
    """The body rows of the table under the heading that starts with `table`."""
    section = page.split(f"<h2>{table}", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section.split("<tbody>", 1)[1])
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]


def test_survey_of_a_district_writes_a_page_with_a_map_and_tables(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "gangnam.html"
    done = run(env, "report", "survey", "--area", "gangnam-gu", "--out", out, "--older-than", "8")
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout and "gangnam-gu" in done.stdout
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "</svg>" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    dots = page.count("<circle cx=")
    owners = _cells(page, "By owner<")
    records = sum(int(row[1]) for row in owners)
    assert dots - 7 == records > 1700  # the 7 legend dots, then one per camera record
    assert any("강남구청" in row[0] for row in owners)
    assert sum(int(row[2]) for row in owners) > 4000  # the cameras, counting every unit
    (health,) = _cells(page, "By health status")
    assert health[0] == "unchecked" and int(health[1]) == records
    jurisdictions = {row[0].split(" ")[0]: int(row[1]) for row in _cells(page, "By jurisdiction")}
    assert jurisdictions["gangnam-gu"] == records
    for heading in ("By owner kind", "By purpose", "By install year", "By AI capability"):
        assert f"<h2>{heading}" in page


def test_survey_of_a_geojson_file_of_neighbourhoods(env: dict[str, str], tmp_path: Path) -> None:
    dongs = json.loads((SEOUL / "gangnam_seocho_songpa_dong_2013.geojson").read_text())
    some = [f for f in dongs["features"] if f["properties"]["code"].startswith("11230")][:3]
    area = tmp_path / "three-dongs.geojson"
    area.write_text(json.dumps({"type": "FeatureCollection", "features": some}))
    out = tmp_path / "dongs.html"
    done = run(env, "report", "survey", "--area", area, "--out", out)
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "Camera survey: drawn area" in page and "<svg" in page
    assert 0 < sum(int(row[1]) for row in _cells(page, "By owner<")) < 1700


@pytest.mark.parametrize(
    ("area", "content", "words"),
    [
        ("no-such-gu", None, ["no organization 'no-such-gu'", "GeoJSON file"]),
        ("empty.geojson", "", ["empty.geojson is empty", "Polygon"]),
        ("bad.geojson", "{not json", ["is not JSON", "line 1"]),
        ("line.geojson", '{"type": "LineString", "coordinates": [[127, 37], [127.1, 37]]}',
         ["Polygon or MultiPolygon"]),
        ("bowtie.geojson", '{"type": "Polygon", "coordinates": [[[127, 37.5], [127.01, 37.51], '
         '[127.01, 37.5], [127, 37.51], [127, 37.5]]]}', ["not a valid polygon", "Self-inter"]),
    ],
)  # fmt: skip
def test_bad_areas_are_one_line_errors_and_write_nothing(
    env: dict[str, str], tmp_path: Path, area: str, content: str | None, words: list[str]
) -> None:
    if content is not None:
        (tmp_path / area).write_text(content)
        area = str(tmp_path / area)
    out = tmp_path / "never.html"
    done = run(env, "report", "survey", "--area", area, "--out", out)
    assert done.returncode != 0
    assert done.stderr.startswith("error: ") and done.stderr.strip().count("\n") == 0
    for word in words:
        assert word in done.stderr
    assert not out.exists() and list(tmp_path.glob(".never.html*")) == []


def test_an_unwritable_place_is_a_one_line_error(env: dict[str, str], tmp_path: Path) -> None:
    done = run(env, "report", "survey", "--area", "gangnam-gu", "--out", tmp_path / "no" / "x.html")
    assert done.returncode != 0 and "is not a directory" in done.stderr
