"""Planning maths: redundant fields of view and greedy maximum-coverage placement. Pure.

Placement is the maximum-coverage problem: pick k options (a site, and a heading there) so the
union of what they cover is largest. Greedy picking is the classic (1 - 1/e) approximation, and
because a pick's gain can only shrink as others are picked, a gain computed earlier is an upper
bound: the lazy greedy keeps those bounds in a heap and recomputes only the top one, which makes
k = 50 over 10,000 sites a few thousand evaluations instead of half a million.
"""

import heapq
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from hub.planning.geometry import FloatArray, IntArray

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Option:
    """One way to place a camera: at `site`, covering these cells and demand points (indices
    into the universe the greedy is given)."""

    site: int
    cells: IntArray
    demand: IntArray


@dataclass(frozen=True)
class Pick:
    option: int
    site: int
    gain_cells: int
    gain_demand: float
    demand: IntArray  # the demand points this pick covers first


@dataclass
class Universe:
    """What is still uncovered: cells (inside the area, outside every kept camera's view) and
    demand points with their weights."""

    cell_open: BoolArray
    demand_weight: FloatArray
    demand_open: BoolArray


def _gain(option: Option, u: Universe, demand_first: bool) -> tuple[float, float]:
    cells = float(np.count_nonzero(u.cell_open[option.cells]))
    new = option.demand[u.demand_open[option.demand]]
    demand = float(u.demand_weight[new].sum())
    return (demand, cells) if demand_first else (cells, demand)


def lazy_greedy(
    options: Sequence[Option], universe: Universe, k: int, *, demand_first: bool = True
) -> list[Pick]:
    """Up to k picks, at most one per site, in the order chosen. Each pick maximises the
    gain (demand weight, then cells; or cells, then demand) over what earlier picks left;
    ties go to the earlier option. Stops early when no option adds anything.

    `universe` is consumed: its open flags end up cleared where the picks cover."""
    heap = [
        (-g[0], -g[1], i, 0)
        for i, o in enumerate(options)
        for g in [_gain(o, universe, demand_first)]
    ]
    heapq.heapify(heap)
    used_sites: set[int] = set()
    picks: list[Pick] = []
    while heap and len(picks) < k:
        neg_a, neg_b, i, round_seen = heapq.heappop(heap)
        option = options[i]
        if option.site in used_sites:
            continue
        if round_seen < len(picks):  # a stale bound: recompute and put it back
            a, b = _gain(option, universe, demand_first)
            heapq.heappush(heap, (-a, -b, i, len(picks)))
            continue
        if neg_a == 0 and neg_b == 0:
            break  # the best fresh gain is nothing: every other bound is nothing too
        picks.append(_take(i, option, universe))
        used_sites.add(option.site)
    return picks


def _take(i: int, option: Option, u: Universe) -> Pick:
    new_cells = option.cells[u.cell_open[option.cells]]
    new_demand = option.demand[u.demand_open[option.demand]]
    u.cell_open[new_cells] = False
    u.demand_open[new_demand] = False
    return Pick(
        option=i,
        site=option.site,
        gain_cells=int(new_cells.size),
        gain_demand=float(u.demand_weight[new_demand].sum()),
        demand=new_demand,
    )


@dataclass(frozen=True)
class Overlap:
    """How much of footprint `index` the union of the others covers."""

    index: int
    share: float
    covered_by: tuple[int, ...]
    movable: bool = False


def overlaps(
    footprints: Sequence[BaseGeometry], among: Collection[int] | None = None
) -> list[Overlap]:
    """For every footprint (in metres; or those indexed in `among`), the share of its area
    inside the union of the others that intersect it, and which those are."""
    tree = shapely.STRtree(footprints)
    out = []
    for i in sorted(among) if among is not None else range(len(footprints)):
        fp = footprints[i]
        others = [int(j) for j in tree.query(fp, predicate="intersects") if j != i]
        out.append(Overlap(i, _share(fp, [footprints[j] for j in others]), tuple(sorted(others))))
    return out


def _share(footprint: BaseGeometry, others: Sequence[BaseGeometry]) -> float:
    if not others or footprint.area == 0:
        return 0.0
    covered = footprint.intersection(shapely.union_all(others)).area
    return min(1.0, covered / footprint.area)


def redundant(
    footprints: Sequence[BaseGeometry], share: float, among: Collection[int] | None = None
) -> list[Overlap]:
    """Footprints (of those indexed in `among`; default all) covered at least `share` by all
    the others, most covered first.

    Two cameras with one view each cover the other wholly, yet only one can go: `movable`
    marks a set that may all be moved together, the ones that stay still covering `share` of
    each moved view. Taken in the order listed, one joins the set when that still holds for
    it and for every member it helps cover."""
    found = sorted(
        (o for o in overlaps(footprints, among) if o.share >= share),
        key=lambda o: (-o.share, o.index),
    )
    moving: dict[int, Overlap] = {}
    out = []
    for o in found:
        trial = {*moving, o.index}
        affected = [o, *(m for m in moving.values() if o.index in m.covered_by)]
        movable = all(
            _share(footprints[m.index], [footprints[j] for j in m.covered_by if j not in trial])
            >= share
            for m in affected
        )
        if movable:
            moving[o.index] = o
        out.append(Overlap(o.index, o.share, o.covered_by, movable))
    return out
