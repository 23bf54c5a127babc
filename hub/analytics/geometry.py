"""Pure plane geometry on normalized image points (x, y as fractions of the frame, y down).

Zones and lines are tested against an object's foot point (`Box.foot`). Distances here are in
frame fractions, so they are not isotropic on a non-square frame: good enough for the small
tolerances they are used for (a hysteresis band, a degenerate-shape check).
"""

import math
from collections.abc import Sequence

from schemas.analytics import Box

Pt = tuple[float, float]

# Cross products and areas below this are treated as zero: coordinates are fractions of the
# frame, so 1e-12 is far below anything a detector or an operator's drawing can express.
EPSILON = 1e-12


def cross(origin: Pt, a: Pt, b: Pt) -> float:
    """The z component of (a - origin) x (b - origin)."""
    return (a[0] - origin[0]) * (b[1] - origin[1]) - (a[1] - origin[1]) * (b[0] - origin[0])


def signed_distance(start: Pt, end: Pt, point: Pt) -> float:
    """Distance of `point` from the infinite line through start and end: positive on the
    line's right as seen walking from start to end on the image (y down), negative on its left.

    With y pointing down, a point below a left-to-right line is on the walker's right, and
    the cross product of (end - start) and (point - start) is positive there.
    """
    length = math.dist(start, end)
    if length <= EPSILON:
        raise ValueError("a line needs two different points")
    return cross(start, end, point) / length


def _on_segment(a: Pt, b: Pt, p: Pt) -> bool:
    """Whether p, known to be collinear with a and b, lies between them."""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _orientation(a: Pt, b: Pt, c: Pt) -> int:
    value = cross(a, b, c)
    if abs(value) <= EPSILON:
        return 0
    return 1 if value > 0 else -1


def segments_intersect(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> bool:
    """Whether segments p1-p2 and q1-q2 share at least one point (touching counts)."""
    o1, o2 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    o3, o4 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    # Some endpoint is collinear with the other segment: it meets it only if it lies on it.
    return (
        (o1 == 0 and _on_segment(p1, p2, q1))
        or (o2 == 0 and _on_segment(p1, p2, q2))
        or (o3 == 0 and _on_segment(q1, q2, p1))
        or (o4 == 0 and _on_segment(q1, q2, p2))
    )


def point_in_polygon(point: Pt, polygon: Sequence[Pt]) -> bool:
    """Whether point lies inside the polygon or on its boundary (an object standing exactly on
    a zone's edge is in the zone). Even-odd ray casting; the polygon need not be closed."""
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        if _orientation(a, b, point) == 0 and _on_segment(a, b, point):
            return True
    x, y = point
    inside = False
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            x_at_y = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < x_at_y:
                inside = not inside
    return inside


def polygon_area(polygon: Sequence[Pt]) -> float:
    """Signed area (shoelace); its absolute value is the area."""
    n = len(polygon)
    total = 0.0
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        total += x1 * y2 - x2 * y1
    return total / 2


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes: 1 for the same box, 0 for disjoint ones."""
    width = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    height = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    union = a.w * a.h + b.w * b.h - overlap
    return overlap / union if union > EPSILON else 0.0


def _check_point(owner: str, raw: Sequence[float]) -> Pt:
    if len(raw) != 2:
        raise ValueError(f"{owner}: a point is [x, y], got {len(raw)} numbers")
    x, y = float(raw[0]), float(raw[1])
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= 1 and 0 <= y <= 1):
        raise ValueError(f"{owner}: point [{x}, {y}] is outside the frame (0..1)")
    return x, y


def _without_repeats(points: list[Pt]) -> list[Pt]:
    """Drops consecutive repeats, including a closing point equal to the first."""
    kept: list[Pt] = []
    for p in points:
        if not kept or p != kept[-1]:
            kept.append(p)
    if len(kept) > 1 and kept[0] == kept[-1]:
        kept.pop()
    return kept


def _check_simple(owner: str, ring: list[Pt]) -> None:
    """No two edges may meet except neighbours at their shared corner."""
    n = len(ring)
    edges = [(ring[i], ring[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        a, corner = edges[i]
        b = edges[(i + 1) % n][1]
        # Neighbouring edges along one line pointing back: the outline folds over itself.
        if _orientation(a, corner, b) == 0 and not _on_segment(a, b, corner):
            raise ValueError(f"{owner}: the outline folds back on itself at point {i + 1}")
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # the last edge neighbours the first
            if segments_intersect(*edges[i], *edges[j]):
                raise ValueError(f"{owner}: the outline crosses itself (edges {i + 1} and {j + 1})")


def check_polygon(zone_id: str, points: Sequence[Sequence[float]]) -> list[Pt]:
    """The zone's outline without repeated points, or ValueError naming the zone and what is
    wrong: fewer than 3 distinct points, no area, or an outline that crosses itself."""
    owner = f'zone "{zone_id}"'
    ring = _without_repeats([_check_point(owner, p) for p in points])
    if len(ring) < 3:
        raise ValueError(f"{owner}: a zone needs at least 3 distinct points, got {len(ring)}")
    if all(_orientation(ring[0], ring[1], p) == 0 for p in ring):
        raise ValueError(f"{owner}: the zone has no area (its points lie on one line)")
    _check_simple(owner, ring)
    # A simple outline not all on one line has an area; this guards against rounding only.
    if abs(polygon_area(ring)) <= EPSILON:
        raise ValueError(f"{owner}: the zone has no area")
    return ring


def check_line(line_id: str, start: Sequence[float], end: Sequence[float]) -> tuple[Pt, Pt]:
    """The line's two points, or ValueError naming the line: points outside the frame, or the
    same point twice (a line with no length cannot be crossed)."""
    owner = f'line "{line_id}"'
    a, b = _check_point(owner, start), _check_point(owner, end)
    if math.dist(a, b) <= EPSILON:
        raise ValueError(f"{owner}: start and end are the same point")
    return a, b
