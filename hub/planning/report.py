"""The survey as a printable HTML page: a map drawn as inline SVG, then the tables. Pure.

Nothing is fetched: no tiles, fonts or scripts, so the page prints the same offline.
"""

import html
from collections.abc import Sequence

import numpy as np
from shapely.geometry import MultiPolygon

from hub.planning.geometry import FloatArray, LocalFrame
from hub.planning.survey import Bucket, Survey

MAP_WIDTH = 760
MAP_MAX_HEIGHT = 760
MARGIN = 12
HEALTH_COLOURS = {
    "online": "#1a9850",
    "degraded": "#fdae61",
    "tampered": "#d73027",
    "offline": "#7f0000",
    "decommissioned": "#999999",
    "unknown": "#4575b4",
    "unchecked": "#74add1",
}
STYLE = """
body { font: 11pt/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 18pt; margin-bottom: 0; } h2 { font-size: 13pt; margin: 1.4em 0 .3em; }
.meta { color: #555; } svg { border: 1px solid #bbb; background: #fafafa; }
table { border-collapse: collapse; margin-bottom: .5em; min-width: 24em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.old td { background: #fde0dd; } .legend span { margin-right: 1em; }
@media print { body { margin: 0; } h2 { break-after: avoid; } table { break-inside: avoid; } }
"""

Point = tuple[float, float, str]  # lon, lat, health status


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


class _Canvas:
    """Lon/lat to SVG pixels: a local metric frame, scaled to fit, north up."""

    def __init__(self, area: MultiPolygon) -> None:
        c = area.centroid
        self.frame = LocalFrame(c.x, c.y)
        xs, ys = self._xy(np.array(_coords(area), dtype=float))
        self.minx, self.maxy = float(xs.min()), float(ys.max())
        span_x, span_y = (
            max(float(xs.max()) - self.minx, 1.0),
            max(self.maxy - float(ys.min()), 1.0),
        )
        inner = MAP_WIDTH - 2 * MARGIN
        self.scale = min(inner / span_x, (MAP_MAX_HEIGHT - 2 * MARGIN) / span_y)
        self.height = round(span_y * self.scale + 2 * MARGIN)

    def _xy(self, lonlat: FloatArray) -> tuple[FloatArray, FloatArray]:
        return self.frame.to_xy(lonlat[:, 0], lonlat[:, 1])

    def pixels(self, lonlat: FloatArray) -> list[tuple[float, float]]:
        xs, ys = self._xy(lonlat)
        px = MARGIN + (xs - self.minx) * self.scale
        py = MARGIN + (self.maxy - ys) * self.scale
        return list(zip(np.round(px, 1).tolist(), np.round(py, 1).tolist(), strict=True))


def _coords(area: MultiPolygon) -> list[tuple[float, ...]]:
    return [xy for poly in area.geoms for xy in poly.exterior.coords]


def _rings(area: MultiPolygon) -> list[FloatArray]:
    return [
        np.array(ring.coords, dtype=float)
        for poly in area.geoms
        for ring in (poly.exterior, *poly.interiors)
    ]


def map_svg(area: MultiPolygon, points: Sequence[Point]) -> str:
    canvas = _Canvas(area)
    path = " ".join(
        "M" + " L".join(f"{x},{y}" for x, y in canvas.pixels(ring)) + " Z" for ring in _rings(area)
    )
    dots = []
    if points:
        lonlat = np.array([(lon, lat) for lon, lat, _ in points], dtype=float)
        for (x, y), (_, _, status) in zip(canvas.pixels(lonlat), points, strict=True):
            colour = HEALTH_COLOURS.get(status, "#000")
            dots.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{MAP_WIDTH}" height="{canvas.height}" '
        f'viewBox="0 0 {MAP_WIDTH} {canvas.height}" role="img" aria-label="Map of the area '
        f'and its cameras"><path d="{path}" fill="#e8eef7" stroke="#345" stroke-width="1.5" '
        f'fill-rule="evenodd"/>{"".join(dots)}</svg>'
    )


def _legend() -> str:
    items = (
        f'<span><svg width="10" height="10"><circle cx="5" cy="5" r="4" fill="{c}"/></svg> '
        f"{_esc(k)}</span>"
        for k, c in HEALTH_COLOURS.items()
    )
    return f'<p class="legend">Health: {"".join(items)}</p>'


def _table(title: str, buckets: list[Bucket], head: str, old_before: int | None = None) -> str:
    rows = []
    for b in buckets:
        old = old_before is not None and b.key is not None and int(b.key) < old_before
        label = f"{_esc(b.key)} ({_esc(b.label)})" if b.label else _esc(b.key or "not recorded")
        rows.append(
            f"<tr{' class=old' if old else ''}><td>{label}</td>"
            f'<td class="n">{b.cameras}</td><td class="n">{b.units}</td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="3">none</td></tr>'
    return (
        f"<h2>{_esc(title)}</h2><table><thead><tr><th>{_esc(head)}</th><th>records</th>"
        f"<th>cameras</th></tr></thead><tbody>{body}</tbody></table>"
    )


def survey_html(s: Survey, area: MultiPolygon, points: Sequence[Point], drawn_of: int) -> str:
    """The whole page. `points` are the cameras drawn (at most a limit) of `drawn_of`."""
    aging = s.older_than
    drawn = f"{len(points)} of {drawn_of}" if len(points) < drawn_of else f"all {drawn_of}"
    tables = [
        _table("By owner", s.by_owner, "owner"),
        _table("By owner kind", s.by_owner_kind, "owner kind"),
        _table("By purpose", s.by_purpose, "purpose"),
        _table(
            f"By install year (older than {aging.years} years shaded)",
            s.by_install_year,
            "install year",
            aging.installed_before,
        ),
        _table("By AI capability", s.by_ai_capable, "AI capable"),
        _table("By registry status", s.by_status, "status"),
        _table("By health status", s.by_health, "health"),
        _table("By jurisdiction", s.by_jurisdiction, "jurisdiction"),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Camera survey: {_esc(s.area)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Camera survey: {_esc(s.area)}</h1>"
        f'<p class="meta">Generated {_esc(s.generated_at.strftime("%Y-%m-%d %H:%M UTC"))} by '
        f"c4hub. {s.cameras} records, {s.units} cameras; {aging.cameras} records "
        f"({aging.units} cameras) installed before {aging.installed_before}, older than "
        f"{aging.years} years.</p>"
        f"<h2>Map</h2>{map_svg(area, points)}{_legend()}"
        f'<p class="meta">Cameras drawn: {drawn}.</p>{"".join(tables)}</body></html>\n'
    )
