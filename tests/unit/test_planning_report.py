"""The survey page: map drawn to scale, tables, escaping, old cameras shaded."""

import re
from datetime import UTC, datetime

import pytest
from shapely.geometry import MultiPolygon, box

from hub.planning.report import MAP_WIDTH, MARGIN, map_svg, survey_html
from hub.planning.survey import Aging, Bucket, Survey

SQUARE = MultiPolygon([box(127.0, 37.5, 127.01, 37.51)])


def _survey() -> Survey:
    owner = Bucket(key="acme", label="<script>alert(1)</script>", cameras=2, units=3)
    years = [Bucket(key="2009", cameras=1, units=2), Bucket(key="2020", cameras=1, units=1)]
    return Survey(
        area="test-gu",
        generated_at=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        cameras=2,
        units=3,
        by_owner=[owner],
        by_owner_kind=[Bucket(key="private_business", cameras=2, units=3)],
        by_purpose=[],
        by_install_year=years,
        older_than=Aging(years=10, installed_before=2016, cameras=1, units=2, camera_ids=[]),
        by_ai_capable=[],
        by_status=[],
        by_health=[Bucket(key="unchecked", cameras=2, units=3)],
        by_jurisdiction=[Bucket(key=None, cameras=2, units=3)],
    )


def test_map_fits_the_width_north_up_with_a_dot_per_camera() -> None:
    wide = MultiPolygon([box(127.0, 37.5, 127.02, 37.51)])
    svg = map_svg(wide, [(127.0, 37.5, "online"), (127.02, 37.51, "offline")])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    dots = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="2.5" fill="(#\w+)"/>', svg)
    (x0, y0, c0), (x1, y1, c1) = dots
    assert float(x0) == MARGIN and float(x1) == MAP_WIDTH - MARGIN  # west edge, east edge
    assert float(y0) > float(y1)  # the southern camera is drawn lower
    assert c0 != c1
    height = int(re.search(r'height="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    # A degree of latitude is 1.26 times one of longitude at 37.5°N: drawn to scale.
    assert (height - 2 * MARGIN) / (MAP_WIDTH - 2 * MARGIN) == pytest.approx(1.26 / 2, abs=0.01)


def test_page_holds_the_tables_escapes_names_and_shades_old_years() -> None:
    page = survey_html(_survey(), SQUARE, [(127.005, 37.505, "unchecked")], 2)
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<tr class=old><td>2009</td>" in page and "<tr><td>2020</td>" in page
    assert "Cameras drawn: 1 of 2." in page
    assert "<td>not recorded</td>" in page  # the jurisdiction bucket of cameras in none
    assert "<h2>By purpose</h2>" in page and '<td colspan="3">none</td>' in page
    assert "1 records (2 cameras) installed before 2016" in page
