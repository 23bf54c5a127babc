"""From sites, cameras and demand (in metres) to ranked proposals. Pure, no I/O.

Coverage is counted on a raster: cells of `cell_m` (an eighth of the range by default), each
standing for its centre, so the area gained is exact to about one cell along the edge of a
view; demand points are tested exactly. The raster is one flag per cell over the area's
bounds; only the cells some option covers are tested against the area's outline. The
raster only chooses: the area each pick gains is then measured on the polygons.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from hub.planning.geometry import (
    FloatArray,
    Grid,
    IntArray,
    PointIndex,
    Sector,
    bearings,
    facing_each,
)
from hub.planning.rules import BoolArray, Option, Universe, lazy_greedy

# A camera with a narrower view than a full circle is tried facing these headings at each site.
HEADINGS = tuple(float(h) for h in range(0, 360, 45))
CELLS_PER_RANGE = 8
# The raster is one flag per cell over the area's bounds: beyond this, cells grow instead.
MAX_CELLS = 40_000_000


@dataclass(frozen=True)
class PlacementInput:
    area: BaseGeometry  # where coverage counts
    kept: Sequence[BaseGeometry]  # views of the cameras that stay
    moved: Sequence[BaseGeometry]  # views of the cameras to be moved: lost where they stand
    sites_x: FloatArray
    sites_y: FloatArray
    demand_x: FloatArray
    demand_y: FloatArray
    demand_w: FloatArray
    range_m: float
    fov_deg: float
    k: int
    demand_first: bool = True
    cell_m: float | None = None


@dataclass(frozen=True)
class Proposal:
    rank: int
    site: int
    x: float
    y: float
    heading_deg: float | None
    gain_area_m2: float
    gain_demand: float
    demand: IntArray = field(repr=False)


@dataclass(frozen=True)
class Placement:
    proposals: list[Proposal]
    cell_m: float
    options: int
    lost_area_m2: float  # what only the moved cameras saw, inside the area
    lost_demand: float  # weight of the demand points only the moved cameras covered


def place(inp: PlacementInput) -> Placement:
    reach = inp.range_m + 1.0
    minx, miny, maxx, maxy = inp.area.bounds
    bounds = (minx - reach, miny - reach, maxx + reach, maxy + reach)
    cell_m = max(
        inp.cell_m or default_cell_m(inp.range_m),
        math.sqrt((bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) / MAX_CELLS),
    )
    grid = Grid.over(bounds, cell_m)
    demand = PointIndex(inp.demand_x, inp.demand_y, max(inp.range_m, 1.0))
    sectors, options = _options(inp, grid, demand)
    universe = Universe(
        cell_open=_open_cells(inp, grid, options),
        demand_weight=inp.demand_w,
        demand_open=~_covered(inp.kept, inp.demand_x, inp.demand_y),
    )
    picks = lazy_greedy(options, universe, inp.k, demand_first=inp.demand_first)
    chosen = [sectors[p.option] for p in picks]
    proposals = [
        Proposal(
            rank=n,
            site=p.site,
            x=sector.x,
            y=sector.y,
            heading_deg=sector.heading_deg,
            gain_area_m2=gain,
            gain_demand=p.gain_demand,
            demand=p.demand,
        )
        for n, (p, sector, gain) in enumerate(
            zip(picks, chosen, _exact_gains(inp, chosen), strict=True), start=1
        )
    ]
    lost_area, lost_demand = _loss(inp)
    return Placement(proposals, cell_m, len(options), lost_area, lost_demand)


def _options(
    inp: PlacementInput, grid: Grid, demand: PointIndex
) -> tuple[list[Sector], list[Option]]:
    sectors, options = [], []
    for site, (x, y) in enumerate(zip(inp.sites_x.tolist(), inp.sites_y.tolist(), strict=True)):
        # The full circle first; each heading's sector is then a cut of it.
        circle = Sector(x, y, inp.range_m)
        cells, points = grid.cells_in(circle), demand.in_sector(circle)
        cx, cy = grid.centres(cells)
        cx, cy = cx - x, cy - y
        px, py = demand.xs[points] - x, demand.ys[points] - y
        if inp.fov_deg >= 360:
            sectors.append(circle)
            options.append(Option(site, cells, points))
            continue
        cell_in = facing_each(cx, cy, bearings(cx, cy), HEADINGS, inp.fov_deg)
        point_in = facing_each(px, py, bearings(px, py), HEADINGS, inp.fov_deg)
        for h, heading in enumerate(HEADINGS):
            sectors.append(Sector(x, y, inp.range_m, heading, inp.fov_deg))
            options.append(Option(site, cells[cell_in[h]], points[point_in[h]]))
    return sectors, options


def _open_cells(inp: PlacementInput, grid: Grid, options: Sequence[Option]) -> BoolArray:
    """Cells some option covers that lie in the area and in no kept camera's view. Only
    those are tested against the area: the rest of the grid never counts."""
    touched = np.zeros(grid.size, dtype=bool)
    for o in options:
        touched[o.cells] = True
    cells = np.flatnonzero(touched)
    is_open = np.zeros(grid.size, dtype=bool)
    is_open[cells] = shapely.intersects_xy(inp.area, *grid.centres(cells))  # edge is inside
    for view in inp.kept:
        is_open[grid.cells_within(view)] = False
    return is_open


def _exact_gains(inp: PlacementInput, chosen: list[Sector]) -> list[float]:
    """The area each pick adds, measured on polygons: the raster chose, this reports. A pick
    adds its view inside the area, less the kept cameras' views and the earlier picks'."""
    kept = shapely.STRtree(list(inp.kept)) if inp.kept else None
    views = [s.polygon() for s in chosen]
    gains = []
    for i, view in enumerate(views):
        new = view.intersection(inp.area)
        near = [inp.kept[j] for j in kept.query(view, predicate="intersects")] if kept else []
        near += [v for v in views[:i] if v.intersects(view)]
        if near:
            new = new.difference(shapely.union_all(near))
        gains.append(float(new.area))
    return gains


def _covered(views: Sequence[BaseGeometry], xs: FloatArray, ys: FloatArray) -> BoolArray:
    """Which points lie in at least one view."""
    hit = np.zeros(xs.size, dtype=bool)
    if not views or xs.size == 0:
        return hit
    tree = shapely.STRtree(views)
    points, _ = tree.query(shapely.points(xs, ys), predicate="intersects")
    hit[points] = True
    return hit


def _loss(inp: PlacementInput) -> tuple[float, float]:
    if not inp.moved:
        return 0.0, 0.0
    lost = shapely.union_all(list(inp.moved)).intersection(inp.area)
    if inp.kept:
        lost = lost.difference(shapely.union_all(list(inp.kept)))
    was = _covered(inp.moved, inp.demand_x, inp.demand_y)
    still = _covered(inp.kept, inp.demand_x, inp.demand_y)
    return float(lost.area), float(inp.demand_w[was & ~still].sum())


def default_cell_m(range_m: float) -> float:
    return max(1.0, range_m / CELLS_PER_RANGE)
