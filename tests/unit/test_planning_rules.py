"""Greedy placement and redundancy on geometry small enough to check by hand."""

import math

import numpy as np
import pytest
import shapely

from hub.planning.geometry import Grid, IntArray, LocalFrame, PointIndex, Sector, grid_points
from hub.planning.placement import PlacementInput, place
from hub.planning.rules import Option, Universe, lazy_greedy, overlaps, redundant


def _ints(*values: int) -> IntArray:
    return np.array(values, dtype=np.int64)


def _universe(cells: int, weights: tuple[float, ...] = ()) -> Universe:
    return Universe(
        cell_open=np.ones(cells, dtype=bool),
        demand_weight=np.array(weights, dtype=float),
        demand_open=np.ones(len(weights), dtype=bool),
    )


def test_three_candidates_are_chosen_by_what_they_add_not_what_they_cover() -> None:
    # A covers 4 cells; B covers 3 but shares 2 with A; C covers 2 of its own.
    a = Option(0, _ints(0, 1, 2, 3), _ints())
    b = Option(1, _ints(2, 3, 4), _ints())
    c = Option(2, _ints(6, 7), _ints())
    picks = lazy_greedy([a, b, c], _universe(10), 3, demand_first=False)
    assert [p.site for p in picks] == [0, 2, 1]
    assert [p.gain_cells for p in picks] == [4, 2, 1]


def test_demand_first_puts_the_heaviest_demand_before_the_larger_area() -> None:
    a = Option(0, _ints(0, 1, 2, 3, 4), _ints(0))  # big area, light demand
    b = Option(1, _ints(5), _ints(1, 2))  # small area, heavy demand
    c = Option(2, _ints(6, 7), _ints(1))  # demand already taken by b once b is in
    picks = lazy_greedy([a, b, c], _universe(10, (1.0, 5.0, 2.0)), 3)
    assert [p.site for p in picks] == [1, 0, 2]
    assert [p.gain_demand for p in picks] == [7.0, 1.0, 0.0]
    assert picks[0].demand.tolist() == [1, 2]
    area_first = lazy_greedy([a, b, c], _universe(10, (1.0, 5.0, 2.0)), 1, demand_first=False)
    assert [p.site for p in area_first] == [0]


def test_greedy_stops_when_nothing_is_left_to_gain_and_uses_a_site_once() -> None:
    north = Option(0, _ints(0, 1), _ints())
    east = Option(0, _ints(1, 2, 3), _ints())  # the same site facing elsewhere
    copy = Option(1, _ints(1, 2, 3), _ints())
    picks = lazy_greedy([north, east, copy], _universe(4), 5, demand_first=False)
    # east first (3 cells); site 0 is then used; copy adds nothing; north may not come back.
    assert [(p.option, p.gain_cells) for p in picks] == [(1, 3)]


def test_sector_covers_its_heading_only_and_wraps_across_north() -> None:
    east = Sector(0, 0, 10, heading_deg=90, fov_deg=90)
    xs, ys = np.array([5.0, 0.0, 5.0, 11.0, 0.0]), np.array([0.0, 5.0, 4.9, 0.0, 0.0])
    assert east.contains(xs, ys).tolist() == [True, False, True, False, True]
    north = Sector(0, 0, 10, heading_deg=350, fov_deg=40)
    assert north.contains(np.array([0.5, -1.0, 5.0]), np.array([5.0, 5.0, 0.0])).tolist() == [
        True,
        True,
        False,
    ]
    assert Sector(0, 0, 10).contains(np.array([0.0]), np.array([-10.0])).tolist() == [True]


def test_grid_cells_of_a_circle_add_up_to_its_area() -> None:
    grid = Grid.over((-100, -100, 100, 100), 1.0)
    cells = grid.cells_in(Sector(0, 0, 50))
    assert cells.size == pytest.approx(math.pi * 50 * 50, rel=0.01)
    half = grid.cells_in(Sector(0, 0, 50, heading_deg=0, fov_deg=180))
    assert half.size == pytest.approx(math.pi * 50 * 50 / 2, rel=0.02)


def test_point_index_finds_points_in_a_sector_only() -> None:
    xs, ys = np.array([0.0, 30.0, 100.0, -5.0]), np.array([20.0, 0.0, 0.0, -5.0])
    index = PointIndex(xs, ys, 25.0)
    assert index.in_sector(Sector(0, 0, 40)).tolist() == [0, 1, 3]
    assert index.in_sector(Sector(0, 0, 40, heading_deg=0, fov_deg=90)).tolist() == [0]


def test_placement_in_a_square_counts_area_demand_and_existing_views() -> None:
    area = shapely.box(0, 0, 100, 100)
    existing = Sector(20, 50, 10).polygon()  # a camera already watching site 0
    inp = PlacementInput(
        area=area,
        kept=[existing],
        moved=[],
        sites_x=np.array([20.0, 80.0, 50.0]),
        sites_y=np.array([50.0, 50.0, 50.0]),
        demand_x=np.array([82.0, 50.0, 21.0]),
        demand_y=np.array([50.0, 55.0, 50.0]),
        demand_w=np.array([1.0, 3.0, 10.0]),
        range_m=10,
        fov_deg=360,
        k=3,
        cell_m=0.5,
    )
    result = place(inp)
    # The weight-10 point is already seen; the weight-3 one decides; site 0 adds nothing.
    assert [p.site for p in result.proposals] == [2, 1]
    assert [p.rank for p in result.proposals] == [1, 2]
    assert [p.gain_demand for p in result.proposals] == [3.0, 1.0]
    for p in result.proposals:
        assert p.gain_area_m2 == pytest.approx(math.pi * 100, rel=0.002)  # a 72-gon
    assert result.options == 3
    assert result.lost_area_m2 == 0


def test_a_site_at_the_edge_gains_only_the_area_inside() -> None:
    inp = PlacementInput(
        area=shapely.box(0, 0, 100, 100),
        kept=[],
        moved=[Sector(50, 50, 10).polygon()],
        sites_x=np.array([0.0]),
        sites_y=np.array([50.1]),
        demand_x=np.array([50.0]),
        demand_y=np.array([50.0]),
        demand_w=np.array([2.0]),
        range_m=10,
        fov_deg=90,
        k=1,
        cell_m=0.25,
    )
    (p,) = place(inp).proposals
    # Facing 45°, 90° or 135° the whole view is inside; a tie goes to the heading tried first.
    assert p.heading_deg == 45
    assert p.gain_area_m2 == pytest.approx(math.pi * 100 / 4, rel=0.002)
    result = place(inp)
    assert result.lost_area_m2 == pytest.approx(math.pi * 100, rel=0.01)
    assert result.lost_demand == 2.0


def test_two_cameras_at_one_site_with_one_sector_are_redundant_but_only_one_moves() -> None:
    same = Sector(0, 0, 30, heading_deg=45, fov_deg=60).polygon()
    twin = Sector(0, 0, 30, heading_deg=45, fov_deg=60).polygon()
    half = Sector(0, 0, 30, heading_deg=75, fov_deg=60).polygon()  # half of it is new ground
    far = Sector(500, 500, 30).polygon()
    shares = {o.index: o.share for o in overlaps([same, twin, half, far])}
    assert shares[0] == pytest.approx(1.0)
    assert shares[2] == pytest.approx(0.5, abs=0.02)
    assert shares[3] == 0
    found = redundant([same, twin, half, far], 0.8)
    assert [(o.index, o.movable) for o in found] == [(0, True), (1, False)]
    assert found[0].covered_by == (1, 2)


def test_local_frame_round_trips_and_measures_metres() -> None:
    frame = LocalFrame(127.0, 37.5)
    x, y = frame.to_xy(np.array([127.001]), np.array([37.501]))
    assert x[0] == pytest.approx(88.2, abs=0.5)  # 0.001° of longitude at 37.5°N
    assert y[0] == pytest.approx(111.2, abs=0.5)
    lon, lat = frame.to_lonlat(x, y)
    assert (lon[0], lat[0]) == pytest.approx((127.001, 37.501))


def test_grid_points_fall_inside_the_area_at_the_spacing() -> None:
    xs, ys = grid_points(shapely.box(0, 0, 100, 50), 25)
    assert sorted(zip(xs.tolist(), ys.tolist(), strict=True))[:3] == [
        (12.5, 12.5),
        (12.5, 37.5),
        (37.5, 12.5),
    ]
    assert xs.size == 8


def test_a_camera_others_rely_on_stays_even_when_it_is_itself_covered() -> None:
    # a is seen only by b; b is seen by a and d (d alone sees 4/5 of it); d lies within b.
    a, b, d = shapely.box(0, 0, 1, 1), shapely.box(0, 0, 5, 1), shapely.box(1, 0, 5, 1)
    found = redundant([a, b, d], 0.8)
    assert [(o.index, o.share, o.movable) for o in found] == [
        (0, 1.0, True),
        (1, 1.0, False),  # moving it too would leave a unseen
        (2, 1.0, True),
    ]
    three = [Sector(0, 0, 30, heading_deg=10, fov_deg=40).polygon() for _ in range(3)]
    assert [o.movable for o in redundant(three, 0.8)] == [True, True, False]
