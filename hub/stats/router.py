"""Traffic statistics API: counts by interval, and on an H3 grid for the map."""

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from hub.deps import PrincipalDep, SessionDep
from hub.errors import Invalid, problem_responses
from hub.registry.consent import visible_camera
from hub.stats import service
from schemas.events import UtcTimestamp
from schemas.stats import HexCollection, Interval, Source, TrafficStats

stats_router = APIRouter(
    prefix="/stats", tags=["statistics"], responses=problem_responses(400, 401, 403, 404, 422)
)

# A day of 15-minute buckets per camera is 96 rows; bound the span so a page stays small.
MAX_SPAN = {
    Interval.QUARTER_HOUR: timedelta(days=7),
    Interval.HOUR: timedelta(days=92),
    Interval.DAY: timedelta(days=3660),
}

Start = Annotated[UtcTimestamp, Query(alias="from", description="Start, RFC 3339 with offset")]
End = Annotated[UtcTimestamp, Query(alias="to", description="End (excluded), RFC 3339")]


def _query(
    start: datetime,
    end: datetime,
    interval: Interval,
    camera_id: uuid.UUID | None,
    scope: uuid.UUID | None,
    source: Source,
) -> service.TrafficQuery:
    if end <= start:
        raise Invalid("`to` must be after `from`", "to")
    if end - start > MAX_SPAN[interval]:
        days = MAX_SPAN[interval].days
        raise Invalid(f"at most {days} days with interval {interval.value}; narrow from/to", "to")
    return service.TrafficQuery(start, end, interval, camera_id, scope, source)


@stats_router.get("/traffic", response_model=TrafficStats)
def get_traffic(
    session: SessionDep,
    principal: PrincipalDep,
    start: Start,
    end: End,
    interval: Interval = Interval.HOUR,
    camera_id: uuid.UUID | None = None,
    source: Source = Source.LINES,
) -> TrafficStats:
    """Traffic counted per camera, line, direction, class and interval (15min, hour, day;
    intervals start at midnight UTC), from line crossings (`source=lines`) or from plate
    reads (`source=plates`). Business tokens count their own cameras only."""
    if camera_id is not None:
        visible_camera(session, camera_id, principal.org_scope)
    q = _query(start, end, interval, camera_id, principal.org_scope, source)
    return service.traffic(session, q)


@stats_router.get("/traffic/h3", response_model=HexCollection)
def get_traffic_hexes(
    session: SessionDep,
    principal: PrincipalDep,
    start: Start,
    end: End,
    resolution: Annotated[int, Query(ge=0, le=12, description="H3 resolution (8: ~0.7 km²)")] = 8,
    source: Source = Source.LINES,
) -> HexCollection:
    """Line crossings summed over the H3 cells the cameras stand in, as GeoJSON hexagons with
    the count, the cameras counted and the count per class: the traffic map layer."""
    q = _query(start, end, Interval.DAY, None, principal.org_scope, source)
    return service.traffic_hexes(session, q, resolution)
