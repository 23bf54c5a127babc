"""The audit log over HTTP, for admins: who asked or answered which federated query, why."""

from typing import Annotated

from fastapi import APIRouter, Query

from hub.audit import service
from hub.deps import PrincipalDep, SessionDep, require
from hub.errors import problem_responses
from schemas.enums import Role
from schemas.events import UtcTimestamp
from schemas.federation import AuditPage

audit_router = APIRouter(
    prefix="/audit", tags=["audit"], responses=problem_responses(401, 403, 422)
)


@audit_router.get("", response_model=AuditPage)
def audit_log(
    session: SessionDep,
    principal: PrincipalDep,
    case_number: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=r"^[^\x00-\x1f\x7f]+$",
            description="Only this case",
        ),
    ] = None,
    since: Annotated[
        UtcTimestamp | None, Query(alias="from", description="Entries at or after this time")
    ] = None,
    until: Annotated[
        UtcTimestamp | None, Query(alias="to", description="Entries before this time")
    ] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the page before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Federated queries this node asked (`asked`, one entry per node asked and one for the
    local answer) and answered or refused (`answered`), newest first. Admins only."""
    require(principal, frozenset({Role.ADMIN}), "read the audit log")
    before = int(cursor) if cursor is not None else None
    return service.search(session, case_number, since, until, before, limit)
