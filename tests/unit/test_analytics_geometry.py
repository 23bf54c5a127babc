"""Pure geometry for zones and lines: containment, crossing, sides, and shape validity."""

import pytest

from hub.analytics.geometry import (
    box_iou,
    check_line,
    check_polygon,
    point_in_polygon,
    polygon_area,
    segments_intersect,
    signed_distance,
)
from schemas.analytics import Box

SQUARE = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)]
# A "U": the notch between x 0.4..0.6 above y 0.5 is outside.
U_SHAPE = [
    (0.2, 0.2),
    (0.4, 0.2),
    (0.4, 0.5),
    (0.6, 0.5),
    (0.6, 0.2),
    (0.8, 0.2),
    (0.8, 0.8),
    (0.2, 0.8),
]


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        ((0.4, 0.4), True),
        ((0.1, 0.4), False),
        ((0.7, 0.7), False),
        ((0.2, 0.4), True),  # on an edge
        ((0.6, 0.6), True),  # on a corner
        ((0.61, 0.4), False),
    ],
)
def test_point_in_square_counts_the_edge_as_inside(
    point: tuple[float, float], inside: bool
) -> None:
    assert point_in_polygon(point, SQUARE) is inside


@pytest.mark.parametrize(
    ("point", "inside"),
    [((0.5, 0.3), False), ((0.5, 0.7), True), ((0.3, 0.3), True), ((0.7, 0.3), True)],
)
def test_point_in_concave_polygon_excludes_the_notch(
    point: tuple[float, float], inside: bool
) -> None:
    assert point_in_polygon(point, U_SHAPE) is inside


@pytest.mark.parametrize(
    ("p1", "p2", "q1", "q2", "meet"),
    [
        ((0, 0), (1, 1), (0, 1), (1, 0), True),  # an X
        ((0, 0), (1, 0), (0, 1), (1, 1), False),  # parallel
        ((0, 0), (0.5, 0.5), (0.5, 0.5), (1, 0), True),  # touching at an end
        ((0, 0), (0.6, 0), (0.4, 0), (1, 0), True),  # collinear, overlapping
        ((0, 0), (0.3, 0), (0.4, 0), (1, 0), False),  # collinear, apart
        ((0, 0), (0.4, 0.4), (0, 1), (1, 0), False),  # stops short
    ],
)
def test_segments_intersect(
    p1: tuple[float, float],
    p2: tuple[float, float],
    q1: tuple[float, float],
    q2: tuple[float, float],
    meet: bool,
) -> None:
    assert segments_intersect(p1, p2, q1, q2) is meet
    assert segments_intersect(q2, q1, p2, p1) is meet


def test_right_of_a_line_is_positive_with_y_down() -> None:
    # Walking left to right along the image, the walker's right is below the line (y down).
    assert signed_distance((0.1, 0.5), (0.9, 0.5), (0.5, 0.7)) == pytest.approx(0.2)
    assert signed_distance((0.1, 0.5), (0.9, 0.5), (0.5, 0.3)) == pytest.approx(-0.2)
    # Walking down the image, the walker's right is towards smaller x.
    assert signed_distance((0.5, 0.1), (0.5, 0.9), (0.4, 0.5)) == pytest.approx(0.1)


def test_box_iou() -> None:
    a = Box(x=0.1, y=0.1, w=0.2, h=0.2)
    assert box_iou(a, a) == pytest.approx(1.0)
    assert box_iou(a, Box(x=0.5, y=0.5, w=0.1, h=0.1)) == 0.0
    half = Box(x=0.2, y=0.1, w=0.2, h=0.2)  # shifted by half its width
    assert box_iou(a, half) == pytest.approx(1 / 3)


def test_a_valid_zone_comes_back_without_its_closing_point() -> None:
    closed = [list(p) for p in [*SQUARE, SQUARE[0]]]
    assert check_polygon("yard", closed) == SQUARE
    assert check_polygon("u", [list(p) for p in U_SHAPE]) == U_SHAPE
    assert abs(polygon_area(SQUARE)) == pytest.approx(0.16)


@pytest.mark.parametrize(
    ("points", "problem"),
    [
        ([[0.1, 0.1], [0.5, 0.5], [0.1, 0.1]], "at least 3 distinct points, got 2"),
        ([[0.1, 0.1], [0.1, 0.1], [0.5, 0.5], [0.5, 0.5]], "at least 3 distinct points"),
        ([[0.1, 0.1], [0.3, 0.3], [0.5, 0.5]], "no area"),
        ([[0.2, 0.2], [0.6, 0.6], [0.6, 0.2], [0.2, 0.6]], "crosses itself"),
        ([[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.6, 0.4]], "folds back"),
        ([[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6], [0.6, 0.2]], "crosses itself"),
        ([[0.2, 0.2], [1.2, 0.2], [0.6, 0.6]], "outside the frame"),
        ([[0.2, 0.2], [float("nan"), 0.2], [0.6, 0.6]], "outside the frame"),
        ([[0.2, 0.2, 0.1], [0.6, 0.2], [0.6, 0.6]], "a point is [x, y]"),
    ],
)
def test_an_invalid_zone_is_refused_naming_the_zone_and_the_problem(
    points: list[list[float]], problem: str
) -> None:
    with pytest.raises(ValueError, match="zone") as caught:
        check_polygon("gate-3", points)
    assert 'zone "gate-3"' in str(caught.value)
    assert problem in str(caught.value)


def test_a_valid_line_comes_back_as_two_points() -> None:
    assert check_line("door", [0.1, 0.5], [0.9, 0.5]) == ((0.1, 0.5), (0.9, 0.5))


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        ([0.5, 0.5], [0.5, 0.5], "same point"),
        ([0.5, 0.5], [0.5, 1.5], "outside the frame"),
        ([-0.1, 0.5], [0.5, 0.5], "outside the frame"),
    ],
)
def test_an_invalid_line_is_refused_naming_the_line(
    start: list[float], end: list[float], problem: str
) -> None:
    with pytest.raises(ValueError) as caught:
        check_line("door", start, end)
    assert 'line "door"' in str(caught.value)
    assert problem in str(caught.value)
