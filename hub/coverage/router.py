"""Coverage and demand API. Thin: parse, call the service, commit what it computed."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag
from sqlalchemy.orm import Session

from hub.auth.service import Principal
from hub.coverage import service
from hub.coverage.demand import DemandQuery, demand_features
from hub.coverage.models import DemandKind
from hub.deps import PrincipalDep, SessionDep, SettingsDep
from hub.errors import Invalid, problem_responses
from hub.registry.params import parse_bbox
from hub.settings import Settings
from schemas.geo import AreaGeometry
from schemas.scalars import NO_NUL_PATTERN

GEOJSON = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


ERRORS = problem_responses(400, 401, 404, 413, 422)

coverage_router = APIRouter(prefix="/coverage", tags=["coverage"], responses=ERRORS)
demand_router = APIRouter(prefix="/demand", tags=["demand"], responses=ERRORS)

ORGANIZATION_DOC = "Organization (slug or id) whose jurisdiction is the area"
OrganizationParam = Annotated[
    str | None,
    Query(min_length=1, max_length=200, pattern=NO_NUL_PATTERN, description=ORGANIZATION_DOC),
]
RequiredOrganization = Annotated[
    str, Query(min_length=1, max_length=200, pattern=NO_NUL_PATTERN, description=ORGANIZATION_DOC)
]
ObstaclesParam = Annotated[bool, Query(description="Clip fields of view by the imported obstacles")]


class AreaRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: AreaGeometry = Field(description="GeoJSON Polygon or MultiPolygon (EPSG:4326)")
    obstacles: bool = Field(default=False, description="Clip fields of view by obstacles")


class OrganizationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization: str = Field(
        min_length=1,
        max_length=200,
        pattern=NO_NUL_PATTERN,
        description="Organization (slug or id) whose jurisdiction is the area",
    )
    obstacles: bool = Field(default=False, description="Clip fields of view by obstacles")


def _request_kind(value: object) -> str:
    if isinstance(value, dict):
        return "organization" if "organization" in value else "area"
    return "organization" if isinstance(value, OrganizationRequest) else "area"


# Exactly one of the two: each model forbids the other's field. The body names which it is, so
# errors speak of that one only.
CoverageRequest = Annotated[
    Annotated[AreaRequest, Tag("area")] | Annotated[OrganizationRequest, Tag("organization")],
    Discriminator(_request_kind),
]


class Figure(BaseModel):
    covered_m2: float
    share: float


class ParkingShared(Figure):
    crime_prevention_m2: float = Field(description="Covered by crime-prevention cameras now")
    gain_m2: float = Field(description="What parking-enforcement cameras would add to it")


class Assumed(BaseModel):
    count: int
    camera_ids: list[str] = Field(description="The first 100")
    default_range_m: float


class Coverage(BaseModel):
    area_m2: float
    covered_m2: float
    share: float
    by_owner_kind: dict[str, Figure]
    by_purpose: dict[str, Figure]
    if_parking_shared: ParkingShared
    cameras: int = Field(description="Cameras whose view reaches the area")
    assumed_360: Assumed = Field(description="Cameras without a known view, taken as circles")
    gaps: int
    gap_m2: float
    note: str | None = None
    computed_at: str
    cached: bool


def _target(
    session: Session, principal: Principal, settings: Settings, request: CoverageRequest
) -> service.Target:
    if isinstance(request, OrganizationRequest):
        return service.organization_target(session, request.organization, principal.org_scope)
    return service.geojson_target(session, request.area.model_dump(), settings)


def _outcome(
    session: Session,
    principal: Principal,
    settings: Settings,
    target: service.Target,
    obstacles: bool,
) -> service.Outcome:
    outcome = service.coverage(
        session, target, obstacles=obstacles, scope=principal.org_scope, settings=settings
    )
    if not outcome.cached:
        session.commit()
    return outcome


def _coverage(outcome: service.Outcome) -> Coverage:
    entry = outcome.entry
    return Coverage(
        **entry.result, computed_at=entry.computed_at.isoformat(), cached=outcome.cached
    )


@coverage_router.get("", response_model=Coverage)
def get_coverage(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    organization: RequiredOrganization,
    obstacles: ObstaclesParam = False,
) -> Coverage:
    """Covered area and share of an organization's jurisdiction (a business: its own cameras)."""
    target = _target(session, principal, settings, OrganizationRequest(organization=organization))
    return _coverage(_outcome(session, principal, settings, target, obstacles))


@coverage_router.post("", response_model=Coverage)
def post_coverage(
    body: CoverageRequest, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> Coverage:
    """Coverage of a drawn or uploaded area, or of an organization's jurisdiction."""
    target = _target(session, principal, settings, body)
    return _coverage(_outcome(session, principal, settings, target, body.obstacles))


def _gaps(session: Session, outcome: service.Outcome) -> GeoJSONResponse:
    doc = {
        "type": "FeatureCollection",
        "features": service.gap_features(session, outcome.entry),
        "properties": _coverage(outcome).model_dump(),
    }
    return GeoJSONResponse(doc)


@coverage_router.get("/gaps", response_class=GeoJSONResponse)
def get_gaps(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    organization: RequiredOrganization,
    obstacles: ObstaclesParam = False,
) -> GeoJSONResponse:
    """The gap polygons (area minus the union of fields of view), GeoJSON, largest first."""
    target = _target(session, principal, settings, OrganizationRequest(organization=organization))
    return _gaps(session, _outcome(session, principal, settings, target, obstacles))


@coverage_router.post("/gaps", response_class=GeoJSONResponse)
def post_gaps(
    body: CoverageRequest, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> GeoJSONResponse:
    target = _target(session, principal, settings, body)
    return _gaps(session, _outcome(session, principal, settings, target, body.obstacles))


def _demand(
    session: Session, principal: Principal, settings: Settings, q: DemandQuery
) -> GeoJSONResponse:
    features = demand_features(
        session, q, scope=principal.org_scope, default_range_m=settings.coverage_default_range_m
    )
    doc = {"type": "FeatureCollection", "features": features}
    return GeoJSONResponse(doc)


def _org_id(session: Session, principal: Principal, ref: str | None) -> uuid.UUID | None:
    if ref is None:
        return None
    return service.organization_target(session, ref, principal.org_scope).organization_id


@demand_router.get("", response_class=GeoJSONResponse)
def list_demand(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    kind: DemandKind | None = None,
    covered: bool | None = None,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")] = None,
    organization: OrganizationParam = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> GeoJSONResponse:
    """Demand points and areas with whether cameras cover them, and by how many cameras and
    owners (a business token counts its own cameras only)."""
    try:
        box = parse_bbox(bbox) if bbox is not None else None
    except ValueError as exc:
        raise Invalid(str(exc), "bbox") from None
    q = DemandQuery(
        kind=kind,
        covered=covered,
        bbox=box,
        within_org=_org_id(session, principal, organization),
        limit=limit,
    )
    return _demand(session, principal, settings, q)


@demand_router.get("/uncovered", response_class=GeoJSONResponse)
def uncovered_demand(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    organization: OrganizationParam = None,
    kind: DemandKind | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> GeoJSONResponse:
    """Demand no camera covers, heaviest weight first."""
    q = DemandQuery(
        kind=kind,
        covered=False,
        within_org=_org_id(session, principal, organization),
        limit=limit,
        ranked=True,
    )
    return _demand(session, principal, settings, q)
