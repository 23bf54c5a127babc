"""Plate reads API: post a read, search reads, and a vehicle's route across cameras. Admins,
operators, and businesses for their own cameras' reads; planners work with aggregates, never
plates."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from hub.deps import PrincipalDep, SessionDep, require
from hub.errors import Invalid, problem_responses
from hub.hotlists.matching import like_pattern
from hub.paging import Cursor
from hub.plates import store
from hub.registry.params import BBox, parse_bbox
from schemas.analytics import PlateRead
from schemas.enums import Role
from schemas.events import UtcTimestamp
from schemas.hotlists import PlateReadPage, PlateReadStored, RouteFeature

READERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.BUSINESS})

plates_router = APIRouter(
    prefix="/plates", tags=["plates"], responses=problem_responses(401, 403, 422)
)


From = Annotated[
    UtcTimestamp | None, Query(alias="from", description="Reads at or after this time")
]
To = Annotated[UtcTimestamp | None, Query(alias="to", description="Reads before this time")]
Fuzzy = Annotated[
    bool, Query(description="Count the characters OCR confuses (0/O, 8/B, 1/I, 5/S, 2/Z) as equal")
]


def _bbox(text: str | None) -> BBox | None:
    if text is None:
        return None
    try:
        return parse_bbox(text)
    except ValueError as exc:
        raise Invalid(str(exc), "bbox") from None


@plates_router.post(
    "/reads",
    response_model=PlateReadStored,
    status_code=201,
    responses={
        200: {"model": PlateReadStored, "description": "Posted before: nothing new stored"},
        **problem_responses(400, 404, 413),
    },
)
def post_read(
    read: PlateRead, session: SessionDep, principal: PrincipalDep, response: Response
) -> PlateReadStored:
    """Store a plate read made by a camera that reads plates itself (or typed by an operator):
    it is matched against the hotlists at once, raising alerts (sent to the peers concerned).
    Idempotent by `id`: posting the same read again answers 200 and raises nothing new.
    Businesses post reads of their own cameras only; `read_at` within the retention period."""
    require(principal, READERS, "post plate reads")
    outcome = store.post_read(session, read, principal.org_scope)
    session.commit()
    if outcome.duplicate:
        response.status_code = 200
    return outcome


@plates_router.get("/reads", response_model=PlateReadPage)
def search_reads(
    session: SessionDep,
    principal: PrincipalDep,
    plate: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9?*]{1,16}$",
            description="A plate (`12AB34`), or a partial one from a witness: `?` stands for "
            "one unknown character, `*` for several (`12?4AB`, `*4AB`)",
        ),
    ] = None,
    fuzzy: Fuzzy = False,
    since: From = None,
    until: To = None,
    bbox: Annotated[
        str | None, Query(description="minLon,minLat,maxLon,maxLat (EPSG:4326)")
    ] = None,
    camera_id: uuid.UUID | None = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> PlateReadPage:
    """Plate reads newest first, filtered by plate (exact, fuzzy or partial), time, area and
    camera. Business tokens see only their own cameras' reads."""
    require(principal, READERS, "search plate reads")
    if plate is not None:
        try:
            like_pattern(plate)
        except ValueError as exc:
            raise Invalid(str(exc), "plate") from None
    query = store.ReadQuery(
        plate=plate,
        fuzzy=fuzzy,
        since=since,
        until=until,
        bbox=_bbox(bbox),
        camera_id=camera_id,
        cursor=cursor,
        limit=limit,
    )
    return store.search_reads(session, query, principal.org_scope)


@plates_router.get("/{plate}/route", response_model=RouteFeature)
def plate_route(
    plate: Annotated[str, Path(pattern=r"^[A-Z0-9]{1,16}$")],
    session: SessionDep,
    principal: PrincipalDep,
    fuzzy: Fuzzy = False,
    since: From = None,
    until: To = None,
) -> RouteFeature:
    """The plate's sightings oldest first, as a GeoJSON Feature whose LineString runs through
    the cameras that read it (null geometry with fewer than two sightings)."""
    require(principal, READERS, "trace plates")
    return store.route(session, plate, principal.org_scope, since, until, fuzzy)
