"""Registry API: organizations and cameras, as JSON or GeoJSON. Thin: parse, call, commit."""

import json
import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from hub.auth.service import Principal
from hub.deps import WRITERS, BoxDep, PrincipalDep, SessionDep, require
from hub.errors import Forbidden, Invalid, NotFound, problem_responses
from hub.registry import cameras as camera_service
from hub.registry import consent
from hub.registry import organizations as org_service
from hub.registry.convert import organization_out
from hub.registry.models import Organization as OrgRow
from hub.registry.params import decode_cursor, parse_bbox, parse_lon_lat
from hub.registry.query import CameraQuery, camera_document_by_id, search, summarize
from hub.registry.shapes import multipolygon_ewkt
from schemas.camera import Camera, CameraCreate, CameraPage, CameraSummary, CameraUpdate
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus, OrganizationKind, Role
from schemas.geo import AreaGeometry
from schemas.organization import Organization, OrganizationCreate, OrganizationUpdate
from schemas.scalars import NO_NUL_PATTERN

GEOJSON = "application/geo+json"
ERRORS = problem_responses(400, 401, 403, 404, 413, 422)
ADMINS = frozenset({Role.ADMIN})

organizations_router = APIRouter(prefix="/organizations", tags=["organizations"], responses=ERRORS)
cameras_router = APIRouter(prefix="/cameras", tags=["cameras"], responses=ERRORS)


# --- organizations ---------------------------------------------------------------------------


@organizations_router.get("", response_model=list[Organization])
def list_organizations(session: SessionDep, principal: PrincipalDep) -> list[Organization]:
    orgs = org_service.list_organizations(session, principal.org_scope)
    return [organization_out(o) for o in orgs]


@organizations_router.post(
    "", response_model=Organization, status_code=201, responses=problem_responses(409)
)
def create_organization(
    data: OrganizationCreate, session: SessionDep, principal: PrincipalDep
) -> Organization:
    require(principal, ADMINS, "create organizations")
    org = org_service.create_organization(session, data)
    session.commit()
    return organization_out(org)


def _visible_org(session: SessionDep, principal: Principal, org_id: uuid.UUID) -> OrgRow:
    if principal.org_scope is not None and principal.org_scope != org_id:
        raise NotFound("Organization", org_id)
    return org_service.get_organization(session, org_id)


@organizations_router.get("/{org_id:uuid}", response_model=Organization)
def get_organization(
    org_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Organization:
    return organization_out(_visible_org(session, principal, org_id))


@organizations_router.patch("/{org_id:uuid}", response_model=Organization)
def update_organization(
    org_id: uuid.UUID, data: OrganizationUpdate, session: SessionDep, principal: PrincipalDep
) -> Organization:
    require(principal, ADMINS, "change organizations")
    org = org_service.update_organization(session, _visible_org(session, principal, org_id), data)
    session.commit()
    return organization_out(org)


@organizations_router.delete("/{org_id:uuid}", status_code=204, responses=problem_responses(409))
def delete_organization(
    org_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    require(principal, ADMINS, "delete organizations")
    org_service.delete_organization(session, _visible_org(session, principal, org_id))
    session.commit()
    return Response(status_code=204)


# --- cameras ---------------------------------------------------------------------------------


def _parsed(parse: Any, value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise Invalid(str(exc), name) from None


async def camera_query(
    bbox: Annotated[
        str | None,
        Query(description="minLon,minLat,maxLon,maxLat", examples=["127.02,37.49,127.06,37.52"]),
    ] = None,
    near: Annotated[
        str | None, Query(description="lon,lat: cameras within radius_m of it (needs radius_m)")
    ] = None,
    radius_m: Annotated[float | None, Query(gt=0, le=100_000)] = None,
    nearest: Annotated[
        str | None,
        Query(description="lon,lat: the k nearest cameras, ranked (within near/radius_m if given)"),
    ] = None,
    k: Annotated[int, Query(ge=1, le=1000)] = 10,
    covers: Annotated[
        str | None, Query(description="lon,lat: cameras whose field of view covers it")
    ] = None,
    within_org: Annotated[
        str | None,
        Query(
            description="Organization id or slug: inside its jurisdiction", pattern=NO_NUL_PATTERN
        ),
    ] = None,
    owner: Annotated[
        str | None, Query(description="Owner organization id or slug", pattern=NO_NUL_PATTERN)
    ] = None,
    owner_kind: OrganizationKind | None = None,
    purpose: CameraPurpose | None = None,
    status: CameraStatus | None = None,
    adapter: AdapterKind | None = None,
    ai_capable: bool | None = None,
    tag: Annotated[str | None, Query(max_length=64, pattern=NO_NUL_PATTERN)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CameraQuery:
    if (near is None) != (radius_m is None):
        raise Invalid("near and radius_m go together", "near" if near is None else "radius_m")
    if nearest is not None and cursor is not None:
        raise Invalid("nearest returns one ranked list; it has no cursor", "cursor")
    if cursor is not None:
        _parsed(decode_cursor, cursor, "cursor")
    return CameraQuery(
        bbox=_parsed(parse_bbox, bbox, "bbox"),
        near=_parsed(parse_lon_lat, near, "near"),
        radius_m=radius_m,
        nearest=_parsed(parse_lon_lat, nearest, "nearest"),
        k=k,
        covers=_parsed(parse_lon_lat, covers, "covers"),
        within_org_ref=within_org,
        owner_ref=owner,
        owner_kind=owner_kind,
        purpose=purpose,
        status=status,
        adapter=adapter,
        ai_capable=ai_capable,
        tag=tag,
        cursor=cursor,
        limit=limit,
    )


# Pure parsing, so it runs on the event loop: organization references are looked up later,
# in the request's worker thread, by the query service.
QueryDep = Annotated[CameraQuery, Depends(camera_query)]
ONE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The camera (a GeoJSON Feature with Accept: application/geo+json)",
        "content": {GEOJSON: {"schema": {"type": "object"}}},
    }
}
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of cameras (GeoJSON with Accept: application/geo+json)",
        "content": {GEOJSON: {"schema": {"type": "object"}}},
    }
}


def _wants_geojson(request: Request) -> bool:
    return GEOJSON in request.headers.get("accept", "")


def _json(text: str, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(text, status_code=status, media_type=media_type)


def _camera_response(
    request: Request,
    session: SessionDep,
    camera_id: uuid.UUID,
    scope: uuid.UUID | None,
    status: int = 200,
) -> Response:
    """One camera as JSON, or as a GeoJSON Feature when asked for."""
    feature = _wants_geojson(request)
    doc = camera_document_by_id(session, camera_id, scope, feature=feature)
    return _json(doc, status, GEOJSON if feature else "application/json")


def _page(request: Request, session: SessionDep, q: CameraQuery, principal: Principal) -> Response:
    # PostgreSQL writes each camera's JSON (see query.camera_document); this only joins them.
    features = _wants_geojson(request)
    docs, next_cursor = search(session, q, principal.org_scope, features=features)
    items = ",".join(docs)
    cursor = json.dumps(next_cursor)
    if not features:
        return _json(f'{{"items":[{items}],"next_cursor":{cursor}}}')
    links = []
    if next_cursor:
        href = str(request.url.include_query_params(cursor=next_cursor))
        links.append({"rel": "next", "type": GEOJSON, "href": href})
    return _json(
        f'{{"type":"FeatureCollection","features":[{items}],'
        f'"next_cursor":{cursor},"links":{json.dumps(links)}}}',
        media_type=GEOJSON,
    )


@cameras_router.get("", response_model=CameraPage, responses=PAGE_RESPONSES)
def list_cameras(
    request: Request, session: SessionDep, principal: PrincipalDep, q: QueryDep
) -> Any:
    """Cameras matching every filter given, one cursor page at a time (or the k nearest)."""
    return _page(request, session, q, principal)


@cameras_router.post("/within", response_model=CameraPage, responses=PAGE_RESPONSES)
def cameras_within(
    area: AreaGeometry,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    q: QueryDep,
) -> Any:
    """Cameras inside a GeoJSON Polygon or MultiPolygon sent as the body (plus any filters)."""
    try:
        ewkt = multipolygon_ewkt(area)
    except ValueError as exc:
        raise Invalid(str(exc), "body") from None
    return _page(request, session, replace(q, within_ewkt=ewkt), principal)


@cameras_router.get("/summary", response_model=CameraSummary)
def camera_summary(session: SessionDep, principal: PrincipalDep, q: QueryDep) -> CameraSummary:
    """Totals of records and units (cameras) by owner, kind, purpose, status, year, AI."""
    return summarize(session, q, principal.org_scope)


def _owner_for(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    if principal.role is Role.BUSINESS:
        if requested is not None and requested != principal.organization_id:
            raise Forbidden("A business token may only register its own organization's cameras.")
        assert principal.organization_id is not None
        return principal.organization_id
    if requested is None:
        raise Invalid("owner_id is required", "owner_id")
    return requested


@cameras_router.post("", response_model=Camera, status_code=201, responses=problem_responses(409))
def create_camera(
    data: CameraCreate,
    request: Request,
    session: SessionDep,
    box: BoxDep,
    principal: PrincipalDep,
) -> Response:
    require(principal, WRITERS, "register cameras")
    camera = camera_service.create_camera(session, box, data, _owner_for(principal, data.owner_id))
    session.commit()
    return _camera_response(request, session, camera.id, principal.org_scope, 201)


@cameras_router.get("/{camera_id:uuid}", response_model=Camera, responses=ONE_RESPONSES)
def get_camera(
    camera_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    return _camera_response(request, session, camera_id, principal.org_scope)


@cameras_router.patch("/{camera_id:uuid}", response_model=Camera, responses=problem_responses(409))
def update_camera(
    camera_id: uuid.UUID,
    data: CameraUpdate,
    request: Request,
    session: SessionDep,
    box: BoxDep,
    principal: PrincipalDep,
) -> Response:
    require(principal, WRITERS, "change cameras")
    camera = consent.visible_camera(session, camera_id, principal.org_scope)
    consent.refuse_change_after_consent_ended(session, camera_id)
    if data.owner_id is not None:
        _owner_for(principal, data.owner_id)
    camera_service.update_camera(session, box, camera, data)
    session.commit()
    return _camera_response(request, session, camera_id, principal.org_scope)


@cameras_router.delete("/{camera_id:uuid}", status_code=204)
def delete_camera(camera_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    require(principal, WRITERS, "delete cameras")
    camera_service.delete_camera(
        session, camera_service.get_camera(session, camera_id, principal.org_scope)
    )
    session.commit()
    return Response(status_code=204)
