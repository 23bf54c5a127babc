"""Planning API: redundant cameras, placement plans (GeoJSON, CSV), the fleet survey. Thin."""

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from hub.auth.service import Principal
from hub.deps import PrincipalDep, SessionDep, SettingsDep, require
from hub.errors import problem_responses
from hub.planning import service
from hub.planning.contracts import (
    PlanRequest,
    PlanSummary,
    RedundantAnswer,
    RedundantBody,
    SurveyBody,
)
from hub.planning.export import plan_csv, plan_geojson
from hub.planning.inputs import organization_area, pick_area
from hub.planning.survey import Survey, survey
from schemas.enums import Role
from schemas.scalars import NO_NUL_PATTERN

GEOJSON = "application/geo+json"
PLANNERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.PLANNER})
ERRORS = problem_responses(400, 401, 403, 404, 413, 422)

planning_router = APIRouter(prefix="/planning", tags=["planning"], responses=ERRORS)
survey_router = APIRouter(prefix="/survey", tags=["planning"], responses=ERRORS)

Organization = Annotated[
    str,
    Query(
        max_length=200,
        pattern=NO_NUL_PATTERN,
        description="Slug or id of the organization whose jurisdiction is the area",
    ),
]
Share = Annotated[
    float | None,
    Query(gt=0, le=1, description="Share of a view others must cover (default setting)"),
]
OlderThan = Annotated[int, Query(ge=0, le=100, description="Flag cameras older than this")]


def _geojson(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=GEOJSON, headers=headers)


@planning_router.get("/redundant", response_model=RedundantAnswer)
def redundant_in_jurisdiction(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    organization: Organization,
    share: Share = None,
) -> RedundantAnswer:
    """Cameras in an organization's jurisdiction whose field of view the other cameras cover
    at least `share` (near-duplicates): the share, the covering cameras, and whether it can be
    moved. Cameras with no heading count as a full circle (`assumed_360`)."""
    area = organization_area(session, organization, principal.org_scope)
    limit = share or settings.planning_redundant_share
    return service.find_redundant(session, area, limit, principal.org_scope, settings)


@planning_router.post("/redundant", response_model=RedundantAnswer)
def redundant_in_area(
    body: RedundantBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> RedundantAnswer:
    """As GET, for an organization or a drawn GeoJSON area."""
    area = pick_area(session, body.organization, body.area_geojson(), principal.org_scope)
    limit = body.share or settings.planning_redundant_share
    return service.find_redundant(session, area, limit, principal.org_scope, settings)


@planning_router.post(
    "/plans", status_code=201, responses={201: {"content": {GEOJSON: {}}, "description": "Plan"}}
)
def create_plan(
    body: PlanRequest,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> Response:
    """Greedy maximum-coverage placement of k cameras over candidate sites (demand points, a
    grid, or given sites), moving redundant cameras first when `relocate`. k above the number
    of candidate sites is refused (422); when fewer than k sites add anything, the plan says
    so in `totals.stopped_early`. Answers the stored plan as GeoJSON."""
    _may_plan(principal)
    plan = service.create_plan(session, body, settings)
    session.commit()
    _, proposals = service.get_plan(session, plan.id)
    location = str(request.url_for("get_plan", plan_id=plan.id))
    return _geojson(plan_geojson(plan, proposals), 201, Location=location)


@planning_router.get("/plans", response_model=list[PlanSummary])
def list_plans(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[PlanSummary]:
    """Stored plans, newest first: parameters, totals and a link to each."""
    _may_plan(principal)
    return [
        PlanSummary(
            id=p.id,
            created_at=p.created_at,
            params=p.params,
            totals=p.totals,
            href=str(request.url_for("get_plan", plan_id=p.id)),
        )
        for p in service.list_plans(session, limit)
    ]


def _may_plan(principal: Principal) -> None:
    # A plan weighs every camera on the map, which a business may not see.
    require(principal, PLANNERS, "make or read placement plans")


@planning_router.get(
    "/plans/{plan_id}", responses={200: {"content": {GEOJSON: {}}, "description": "Plan"}}
)
def get_plan(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    """The plan's proposals as a GeoJSON FeatureCollection, its totals and parameters in the
    collection's `properties`."""
    _may_plan(principal)
    plan, proposals = service.get_plan(session, plan_id)
    return _geojson(plan_geojson(plan, proposals))


@planning_router.get(
    "/plans/{plan_id}/proposals.csv",
    responses={200: {"content": {"text/csv": {}}, "description": "Proposals, one per row"}},
)
def get_plan_csv(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    _may_plan(principal)
    _, proposals = service.get_plan(session, plan_id)
    return Response(
        plan_csv(proposals),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}.csv"'},
    )


@survey_router.get("", response_model=Survey)
def get_survey(
    session: SessionDep,
    principal: PrincipalDep,
    organization: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=NO_NUL_PATTERN,
            description="Slug or id: its jurisdiction; unset: every camera",
        ),
    ] = None,
    older_than_years: OlderThan = 10,
) -> Survey:
    """The fleet in an organization's jurisdiction (or all of it): counts by owner, owner
    kind, purpose, install year (flagging those older than N years), AI capability, registry
    status, health status and jurisdiction. A business counts its own cameras only."""
    scope = principal.org_scope
    area = organization_area(session, organization, scope) if organization else None
    return survey(session, area, older_than_years, scope)


@survey_router.post("", response_model=Survey)
def post_survey(body: SurveyBody, session: SessionDep, principal: PrincipalDep) -> Survey:
    """As GET, for an organization or a drawn GeoJSON area."""
    area = pick_area(session, body.organization, body.area_geojson(), principal.org_scope)
    return survey(session, area, body.older_than_years, principal.org_scope)
