"""Answer a federated query from this node's own data: plate sightings and cameras near a point.

Only what a peer may see leaves: cameras on the map (consent permits it), never their addresses
or credentials, and only inside the area of the agreement that lets the peer ask. The same code
answers this node's own operators, without an area limit. Services flush; callers commit.
"""

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, cast, exists, func, or_, select, true
from sqlalchemy.orm import Session

from federation.models import Agreement, Peer
from federation.policy import active_clause
from hub.audit.service import record
from hub.errors import Invalid
from hub.plates.models import PlateReadRow
from hub.registry.consent import on_map
from hub.registry.models import Camera
from schemas.federation import (
    QUERY_SCOPE,
    AuditRole,
    NearbyCamera,
    PeerAnswerStatus,
    PeerQuery,
    PeerState,
    PlateSighting,
    QueryKind,
    QueryParams,
)
from schemas.geo import Point

MAX_ITEMS = 1000  # per node and query; a wider question is asked in pieces


def check_params(params: QueryParams) -> None:
    """422 unless the parameters the query's kind needs are there and consistent."""
    if params.kind is QueryKind.PLATE_SIGHTINGS:
        if params.plate is None:
            raise Invalid("a plate_sightings query needs `plate`", "query.plate")
        if params.start is not None and params.end is not None and params.start >= params.end:
            raise Invalid("`from` must be before `to`", "query.from")
    elif params.point is None or params.radius_m is None:
        raise Invalid("a cameras_near query needs `point` and `radius_m`", "query.point")


def _point(lon: float, lat: float) -> Point:
    return Point(type="Point", coordinates=[lon, lat])


def _within(area_of: Sequence[uuid.UUID] | None, location: Any) -> ColumnElement[bool]:
    """True where `location` lies inside one of these agreements' areas (an agreement without
    an area covers everywhere); no limit at all when `area_of` is None (a local question)."""
    if area_of is None:
        return true()
    return exists().where(
        Agreement.id.in_(list(area_of)),
        or_(Agreement.area.is_(None), func.ST_Covers(Agreement.area, location)),
    )


def plate_sightings(
    session: Session, params: QueryParams, area_of: Sequence[uuid.UUID] | None
) -> list[PlateSighting]:
    """Reads of exactly this plate in [from, to), at cameras on the map, oldest first."""
    lon = func.ST_X(PlateReadRow.location)
    lat = func.ST_Y(PlateReadRow.location)
    stmt = (
        select(PlateReadRow, Camera.name, lon, lat)
        .join(Camera, Camera.id == PlateReadRow.camera_id)
        .where(
            PlateReadRow.plate == params.plate,
            PlateReadRow.location.is_not(None),
            _within(area_of, PlateReadRow.location),
            *on_map(None),
        )
    )
    if params.start is not None:
        stmt = stmt.where(PlateReadRow.read_at >= params.start)
    if params.end is not None:
        stmt = stmt.where(PlateReadRow.read_at < params.end)
    stmt = stmt.order_by(PlateReadRow.read_at, PlateReadRow.id).limit(MAX_ITEMS)
    return [
        PlateSighting(
            read_id=row.id,
            plate=row.plate,
            read_at=row.read_at,
            confidence=row.confidence,
            camera_id=row.camera_id,
            camera_name=name,
            position=_point(x, y),
            vehicle_class=row.vehicle_class,
            colour=row.colour,
            direction=row.direction,
        )
        for row, name, x, y in session.execute(stmt)
    ]


def cameras_near(
    session: Session, params: QueryParams, area_of: Sequence[uuid.UUID] | None
) -> list[NearbyCamera]:
    """Cameras on the map within radius_m metres of the point, nearest first."""
    assert params.point is not None and params.radius_m is not None  # check_params
    here = func.ST_GeogFromText(f"SRID=4326;POINT({params.point.lon!r} {params.point.lat!r})")
    geog = func.Geography(Camera.location)
    distance = cast(func.ST_Distance(geog, here), Float)
    stmt = (
        select(Camera, distance, func.ST_X(Camera.location), func.ST_Y(Camera.location))
        .where(
            func.ST_DWithin(geog, here, params.radius_m),
            _within(area_of, Camera.location),
            *on_map(None),
        )
        .order_by(distance, Camera.id)
        .limit(MAX_ITEMS)
    )
    return [
        NearbyCamera(
            camera_id=camera.id,
            name=camera.name,
            purpose=camera.purpose.value,
            status=camera.status.value,
            position=_point(x, y),
            distance_m=round(metres, 1),
            heading_deg=camera.heading_deg,
            fov_deg=camera.fov_deg,
            range_m=camera.range_m,
            ptz=camera.ptz,
        )
        for camera, metres, x, y in session.execute(stmt)
    ]


def answer(
    session: Session, params: QueryParams, area_of: Sequence[uuid.UUID] | None
) -> list[dict[str, Any]]:
    """The items this node has for `params`, as JSON objects (without node tags)."""
    check_params(params)
    found: Sequence[PlateSighting | NearbyCamera]
    if params.kind is QueryKind.PLATE_SIGHTINGS:
        found = plate_sightings(session, params, area_of)
    else:
        found = cameras_near(session, params, area_of)
    return [item.model_dump(mode="json") for item in found]


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


# --- a peer asks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerAnswerOutcome:
    """What this node did with a peer's query: items when allowed, or why it refused."""

    allowed: bool
    items: list[dict[str, Any]]
    detail: str | None = None


def allowing_agreements(
    session: Session, peer_id: uuid.UUID, params: QueryParams, now: datetime
) -> list[uuid.UUID]:
    """Active agreements with this (active) peer under which we give it the query's scope."""
    scope = QUERY_SCOPE[params.kind].value
    stmt = (
        select(Agreement.id)
        .join(Peer, Peer.id == Agreement.peer_id)
        .where(
            Agreement.peer_id == peer_id,
            active_clause(now),
            Peer.state == PeerState.ACTIVE,
            func.array_position(Agreement.scopes_out, scope).is_not(None),
        )
    )
    return list(session.scalars(stmt))


def answer_peer(
    session: Session,
    peer_id: uuid.UUID,
    peer_node_id: uuid.UUID,
    query: PeerQuery,
    now: datetime,
) -> PeerAnswerOutcome:
    """Answer a peer's query within its agreement, or refuse it; audited either way (flushes)."""
    started = time.perf_counter()
    check_params(query.query)
    agreements = allowing_agreements(session, peer_id, query.query, now)
    if agreements:
        outcome = PeerAnswerOutcome(True, answer(session, query.query, agreements))
    else:
        scope = QUERY_SCOPE[query.query.kind].value
        outcome = PeerAnswerOutcome(
            False, [], f"No active agreement gives your node the scope {scope}."
        )
    status = PeerAnswerStatus.OK if outcome.allowed else PeerAnswerStatus.REFUSED
    actor = str(peer_node_id)
    count, elapsed = len(outcome.items), _ms_since(started)
    record(session, AuditRole.ANSWERED, query, actor, peer_node_id, status, count, elapsed)
    return outcome
