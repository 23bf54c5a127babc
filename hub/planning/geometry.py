"""Plane geometry in metres for planning: a local frame, sectors, grids. Pure, no I/O.

Planning works on a city-sized area, so an equirectangular frame centred on the area is exact
to well under a metre per kilometre; it keeps every test hand-checkable (x east, y north).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8
FULL_CIRCLE = 360.0

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class LocalFrame:
    """Metres east (x) and north (y) of (lon0, lat0)."""

    lon0: float
    lat0: float

    @property
    def _kx(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))

    @property
    def _ky(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M

    def to_xy(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        return (lon - self.lon0) * self._kx, (lat - self.lat0) * self._ky

    def to_lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return self.lon0 + x / self._kx, self.lat0 + y / self._ky

    def geometry_to_xy(self, geom: BaseGeometry) -> BaseGeometry:
        """A lon/lat geometry in this frame."""

        def move(coords: FloatArray) -> FloatArray:
            x, y = self.to_xy(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, move)


def bearings(dx: FloatArray, dy: FloatArray) -> FloatArray:
    """Degrees clockwise from north of each offset (x east, y north)."""
    return np.degrees(np.arctan2(dx, dy))


def facing_each(
    dx: FloatArray, dy: FloatArray, bearing: FloatArray, headings: Sequence[float], fov_deg: float
) -> NDArray[np.bool_]:
    """Row h: which offsets lie within `fov_deg` of headings[h] (the camera's spot always
    does). One array operation for every heading a site is tried at."""
    h = np.asarray(headings, dtype=float)[:, None]
    off = np.abs((bearing[None, :] - h + 180.0) % 360.0 - 180.0)
    result: NDArray[np.bool_] = (off <= fov_deg / 2 + 1e-9) | ((dx == 0) & (dy == 0))[None, :]
    return result


@dataclass(frozen=True)
class Sector:
    """What a camera at (x, y) sees: within `range_m`, and within `fov_deg` of `heading_deg`
    (clockwise from north). No heading, or fov ≥ 360: the full circle."""

    x: float
    y: float
    range_m: float
    heading_deg: float | None = None
    fov_deg: float = FULL_CIRCLE

    @property
    def full_circle(self) -> bool:
        return self.heading_deg is None or self.fov_deg >= FULL_CIRCLE

    def contains(self, px: FloatArray, py: FloatArray) -> NDArray[np.bool_]:
        """Which of the points the sector covers (its edge included)."""
        dx, dy = px - self.x, py - self.y
        inside: NDArray[np.bool_] = dx * dx + dy * dy <= self.range_m * self.range_m
        if self.full_circle:
            return inside
        return inside & self.facing(dx, dy, bearings(dx, dy))

    def facing(self, dx: FloatArray, dy: FloatArray, bearing: FloatArray) -> NDArray[np.bool_]:
        """Which offsets (dx, dy from the camera, at `bearing`) lie within the view's angle;
        the camera's own spot does."""
        if self.full_circle:
            return np.ones(dx.shape, dtype=bool)
        assert self.heading_deg is not None
        rows = facing_each(dx, dy, bearing, [self.heading_deg], self.fov_deg)
        first: NDArray[np.bool_] = rows[0]
        return first

    def polygon(self, arc_step_deg: float = 5.0) -> BaseGeometry:
        """The sector as a polygon (a 72-gon for the full circle)."""
        if self.full_circle:
            angles = np.linspace(0.0, 360.0, 73)[:-1]
            ring = self._arc(angles)
        else:
            assert self.heading_deg is not None
            steps = max(1, math.ceil(self.fov_deg / arc_step_deg))
            start = self.heading_deg - self.fov_deg / 2
            angles = start + self.fov_deg * np.arange(steps + 1) / steps
            ring = [(self.x, self.y), *self._arc(angles)]
        return shapely.Polygon(ring)

    def _arc(self, bearings_deg: FloatArray) -> list[tuple[float, float]]:
        b = np.radians(bearings_deg)
        xs = self.x + self.range_m * np.sin(b)
        ys = self.y + self.range_m * np.cos(b)
        return list(zip(xs.tolist(), ys.tolist(), strict=True))


@dataclass(frozen=True)
class Grid:
    """`nx` by `ny` square cells of `cell_m`, the lower-left corner at (x0, y0). A cell is
    named by one integer, row * nx + column, and stands for its centre."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int

    @classmethod
    def over(cls, bounds: tuple[float, float, float, float], cell_m: float) -> "Grid":
        minx, miny, maxx, maxy = bounds
        nx = max(1, math.ceil((maxx - minx) / cell_m))
        ny = max(1, math.ceil((maxy - miny) / cell_m))
        return cls(minx, miny, cell_m, nx, ny)

    @property
    def size(self) -> int:
        return self.nx * self.ny

    def centres(self, cells: IntArray) -> tuple[FloatArray, FloatArray]:
        rows, cols = np.divmod(cells, self.nx)
        return self.x0 + (cols + 0.5) * self.cell_m, self.y0 + (rows + 0.5) * self.cell_m

    def window(self, bounds: tuple[float, float, float, float]) -> IntArray:
        """The cells of the grid within `bounds` (clipped to the grid)."""
        minx, miny, maxx, maxy = bounds
        c0 = max(0, math.floor((minx - self.x0) / self.cell_m))
        c1 = min(self.nx - 1, math.floor((maxx - self.x0) / self.cell_m))
        r0 = max(0, math.floor((miny - self.y0) / self.cell_m))
        r1 = min(self.ny - 1, math.floor((maxy - self.y0) / self.cell_m))
        if c1 < c0 or r1 < r0:
            return np.empty(0, dtype=np.int64)
        rows = np.arange(r0, r1 + 1, dtype=np.int64)[:, None]
        cols = np.arange(c0, c1 + 1, dtype=np.int64)[None, :]
        return (rows * self.nx + cols).ravel()

    def cells_in(self, sector: Sector) -> IntArray:
        """The cells whose centres the sector covers."""
        r = sector.range_m
        cells = self.window((sector.x - r, sector.y - r, sector.x + r, sector.y + r))
        xs, ys = self.centres(cells)
        return cells[sector.contains(xs, ys)]

    def cells_within(self, polygon: BaseGeometry) -> IntArray:
        """The cells whose centres lie in the polygon (its boundary included)."""
        cells = self.window(polygon.bounds)
        xs, ys = self.centres(cells)
        return cells[shapely.intersects_xy(polygon, xs, ys)]


class PointIndex:
    """Points bucketed in square buckets, to find those near a place without a full scan."""

    def __init__(self, xs: FloatArray, ys: FloatArray, bucket_m: float) -> None:
        self.xs, self.ys, self.bucket_m = xs, ys, bucket_m
        self._buckets: dict[tuple[int, int], list[int]] = {}
        for i, key in enumerate(zip(*self._keys(xs, ys), strict=True)):
            self._buckets.setdefault(key, []).append(i)

    def _keys(self, xs: FloatArray, ys: FloatArray) -> tuple[list[int], list[int]]:
        return (
            np.floor(xs / self.bucket_m).astype(np.int64).tolist(),
            np.floor(ys / self.bucket_m).astype(np.int64).tolist(),
        )

    def in_sector(self, sector: Sector) -> IntArray:
        """Indices of the points the sector covers, ascending."""
        reach = math.ceil(sector.range_m / self.bucket_m)
        bx, by = math.floor(sector.x / self.bucket_m), math.floor(sector.y / self.bucket_m)
        near: list[int] = []
        for i in range(bx - reach, bx + reach + 1):
            for j in range(by - reach, by + reach + 1):
                near.extend(self._buckets.get((i, j), ()))
        if not near:
            return np.empty(0, dtype=np.int64)
        idx = np.array(sorted(near), dtype=np.int64)
        return idx[sector.contains(self.xs[idx], self.ys[idx])]


def grid_points(area: BaseGeometry, spacing_m: float) -> tuple[FloatArray, FloatArray]:
    """Points every `spacing_m` inside `area` (in a local frame), centred in their squares."""
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(area, gx, gy)
    return gx[inside], gy[inside]


def grid_point_count(area: BaseGeometry, spacing_m: float) -> int:
    """An upper bound of grid_points' count, cheap enough to refuse a grid before making it."""
    minx, miny, maxx, maxy = area.bounds
    return math.ceil((maxx - minx) / spacing_m) * math.ceil((maxy - miny) / spacing_m)
