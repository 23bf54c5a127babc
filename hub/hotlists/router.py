"""Hotlists API: add, list, read and remove entries. Operators and admins only: the lists
name wanted and stolen vehicles. Thin: parse, call, commit."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from hub.deps import PrincipalDep, SessionDep, require
from hub.errors import problem_responses
from hub.hotlists import service
from hub.paging import Cursor
from schemas.enums import Role
from schemas.hotlists import (
    Category,
    HotlistEntryCreate,
    HotlistEntryOut,
    HotlistEntryPage,
    HotlistEntryUpdate,
    ListKind,
)

OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR})

hotlists_router = APIRouter(
    prefix="/hotlists", tags=["hotlists"], responses=problem_responses(401, 403, 404, 422)
)


@hotlists_router.post(
    "/entries",
    response_model=HotlistEntryOut,
    status_code=201,
    responses=problem_responses(400, 413),  # a body that is not JSON, or too large
)
def create_entry(
    data: HotlistEntryCreate, session: SessionDep, principal: PrincipalDep
) -> HotlistEntryOut:
    """Add a plate to a black list (wanted, stolen, watched) or a white list (emergency,
    municipal_fleet, resident_exempt). Reads match it from `valid_from` (default now) until
    `valid_until`; `tolerance: confusable` also matches reads that differ by 0/O, 8/B, 1/I,
    5/S, 2/Z. Bulk lists: `c4hub hotlists import FILE --source S`."""
    require(principal, OPERATORS, "change hotlists")
    row = service.create_entry(session, data)
    session.commit()
    return service.entry_out(row)


@hotlists_router.get("/entries", response_model=HotlistEntryPage)
def list_entries(
    session: SessionDep,
    principal: PrincipalDep,
    plate: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Z0-9]{1,16}$",
            description="Entries that would match a read of this plate (exact or confusable)",
        ),
    ] = None,
    category: Category | None = None,
    kind: ListKind | None = None,
    source: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> HotlistEntryPage:
    require(principal, OPERATORS, "read hotlists")
    query = service.EntryQuery(
        plate=plate, category=category, kind=kind, source=source, cursor=cursor, limit=limit
    )
    return service.list_entries(session, query)


@hotlists_router.get("/entries/{entry_id:uuid}", response_model=HotlistEntryOut)
def get_entry(entry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> HotlistEntryOut:
    require(principal, OPERATORS, "read hotlists")
    return service.entry_out(service.get_entry(session, entry_id))


@hotlists_router.patch(
    "/entries/{entry_id:uuid}",
    response_model=HotlistEntryOut,
    responses=problem_responses(400, 409, 413),
)
def update_entry(
    entry_id: uuid.UUID, data: HotlistEntryUpdate, session: SessionDep, principal: PrincipalDep
) -> HotlistEntryOut:
    """Change an entry issued here (reason, legal basis, priority, valid_until, tolerance,
    issuing agency); peers whose agreement has `hotlists` receive the new version. An entry a
    peer issued is changed only by that peer: 409."""
    require(principal, OPERATORS, "change hotlists")
    row = service.update_entry(session, entry_id, data)
    session.commit()
    return service.entry_out(row)


@hotlists_router.delete(
    "/entries/{entry_id:uuid}", status_code=204, responses=problem_responses(409)
)
def delete_entry(entry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    """Remove an entry issued here; peers whose agreement has `hotlists` drop it too. Alerts
    it raised stay, with their copy of its plate and reason. An entry a peer issued is revoked
    only by that peer: 409."""
    require(principal, OPERATORS, "change hotlists")
    service.delete_entry(session, entry_id)
    session.commit()
    return Response(status_code=204)
