"""OGC API - Features (Part 1: Core, GeoJSON, OpenAPI 3.0). Thin: check the query, read
through the service, build the document.

Two services, each with its own landing page, so a GIS client adds either as a data source: the
registry (cameras, fields of view, organizations) at /ogc and coverage planning (coverage gaps,
demand points, placement proposals) at /ogc/planning.

Landing page, conformance and API definition are always public. The collections need a token
unless the node publishes them as open data (settings.ogc_public); a business token sees only
its own organization and that organization's cameras.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from hub.deps import SessionDep, SettingsDep, bearer, get_principal
from hub.errors import NotFound, problem_responses
from hub.ogc import documents, openapi, service
from hub.ogc.collections import COLLECTIONS, Collection
from hub.ogc.links import GEOJSON, HTML, JSON, OPENAPI_30, OPENAPI_31, Link, Urls, link, page_links
from hub.ogc.params import (
    GEOJSON_FORMATS,
    JSON_FORMATS,
    check_format,
    parse_items_query,
    single_values,
)
from hub.ogc.planning import PLANNING_COLLECTIONS
from hub.settings import Settings

LANDING = "ogc_landing"


@dataclass(frozen=True)
class OgcApi:
    """One OGC API - Features service: its landing page's route name and its collections."""

    landing: str
    title: str
    description: str
    collections: Mapping[str, Collection]


REGISTRY = OgcApi(LANDING, documents.REGISTRY_TITLE, documents.REGISTRY_DESCRIPTION, COLLECTIONS)
PLANNING = OgcApi(
    "ogc_planning_landing",
    "c4hub coverage planning",
    "Coverage gaps, demand points and placement proposals as OGC API - Features.",
    PLANNING_COLLECTIONS,
)


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


class OpenAPI30Response(JSONResponse):
    media_type = OPENAPI_30


async def visible_org(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> uuid.UUID | None:
    """The one organization the caller may see, or None for all of them."""
    if settings.ogc_public:
        # Open data: everyone sees everything, so a token would change nothing.
        return None
    return (await get_principal(request, session, creds)).org_scope


OrgDep = Annotated[uuid.UUID | None, Depends(visible_org)]


def _base(request: Request, settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def _urls(request: Request, settings: Settings, landing: str = LANDING) -> Urls:
    return Urls(_base(request, settings) + request.app.url_path_for(landing))


def _only_format(request: Request, formats: tuple[str, ...]) -> None:
    """Endpoints without parameters of their own still reject unknown ones with a 400."""
    check_format(single_values(request.query_params.multi_items(), {"f"}), formats)


def _node_links(request: Request, settings: Settings) -> list[Link]:
    """The whole node's OpenAPI 3.1 document and its HTML docs, when the app serves them."""
    base, links = _base(request, settings), []
    if request.app.openapi_url:
        href = base + request.app.openapi_url
        links.append(link(href, "service-desc", OPENAPI_31, "The whole node's API (OpenAPI 3.1)"))
    if request.app.docs_url:
        links.append(link(base + request.app.docs_url, "service-doc", HTML, "API documentation"))
    return links


def _docs(media_type: str, schema: dict[str, Any], what: str, *errors: int) -> dict[int | str, Any]:
    return {**openapi.fastapi_response(media_type, schema, what), **problem_responses(*errors)}


def make_router(api: OgcApi) -> APIRouter:
    """The routes of one OGC API service, to be mounted at its own prefix."""
    router = APIRouter(tags=["ogc"])

    def urls(request: Request, settings: Settings) -> Urls:
        return _urls(request, settings, api.landing)

    @router.get(
        "", name=api.landing, responses=_docs(JSON, openapi.LANDING_PAGE, "Landing page", 400)
    )
    @router.get("/", include_in_schema=False)  # clients that append "/" (OGC test suites)
    def landing_page(request: Request, settings: SettingsDep) -> JSONResponse:
        _only_format(request, JSON_FORMATS)
        extra = _node_links(request, settings)
        doc = documents.landing(urls(request, settings), extra, api.title, api.description)
        return JSONResponse(doc)

    @router.get(
        "/conformance", responses=_docs(JSON, openapi.CONFORMANCE, "Conformance classes", 400)
    )
    def conformance(request: Request) -> JSONResponse:
        _only_format(request, JSON_FORMATS)
        return JSONResponse(documents.conformance())

    @router.get(
        "/api",
        response_class=OpenAPI30Response,
        responses=_docs(OPENAPI_30, {"type": "object"}, "OpenAPI 3.0 definition", 400),
    )
    def api_definition(request: Request, settings: SettingsDep) -> OpenAPI30Response:
        """This OGC API alone, as OpenAPI 3.0 with one path per collection (what OGC clients
        read)."""
        _only_format(request, JSON_FORMATS)
        root = urls(request, settings).root
        doc = openapi.document(
            root,
            request.app.version,
            secured=not settings.ogc_public,
            collections=api.collections,
            description=api.description,
        )
        return OpenAPI30Response(doc)

    @router.get(
        "/collections",
        responses=_docs(JSON, openapi.COLLECTIONS_DOC, "The feature collections", 400, 401),
    )
    def list_collections(
        request: Request, session: SessionDep, settings: SettingsDep, org: OrgDep
    ) -> JSONResponse:
        _only_format(request, JSON_FORMATS)
        here = urls(request, settings)
        entries = [
            documents.collection(here, c, service.extent(session, c, org))
            for c in api.collections.values()
        ]
        return JSONResponse(documents.collections(here, entries))

    # One set of routes per collection, so that both OpenAPI documents list each collection's
    # own property filters and feature schema, and an unknown collection is simply a 404.
    for c in api.collections.values():
        _add_collection_routes(router, c, api.landing)
    return router


def _add_collection_routes(router: APIRouter, c: Collection, landing: str) -> None:
    base = f"/collections/{c.id}"
    feature_schema = openapi.collection_feature(c)

    def describe(
        request: Request, session: SessionDep, settings: SettingsDep, org: OrgDep
    ) -> JSONResponse:
        _only_format(request, JSON_FORMATS)
        bbox = service.extent(session, c, org)
        return JSONResponse(documents.collection(_urls(request, settings, landing), c, bbox))

    def items(
        request: Request, session: SessionDep, settings: SettingsDep, org: OrgDep
    ) -> GeoJSONResponse:
        q = parse_items_query(request.query_params.multi_items(), c)
        page = service.page(session, c, q, org)
        links = page_links(
            _urls(request, settings, landing),
            c.id,
            dict(request.query_params),
            limit=q.limit,
            offset=q.offset,
            matched=page.matched,
        )
        return GeoJSONResponse(documents.feature_collection(page, links))

    def feature(
        feature_id: str, request: Request, session: SessionDep, settings: SettingsDep, org: OrgDep
    ) -> GeoJSONResponse:
        _only_format(request, GEOJSON_FORMATS)
        found = service.feature(session, c, feature_id, org)
        if found is None:
            raise NotFound("Feature", feature_id)
        return GeoJSONResponse(documents.feature(_urls(request, settings, landing), c.id, found))

    router.add_api_route(
        base,
        describe,
        summary=f"About {c.title}",
        responses=_docs(JSON, openapi.COLLECTION, c.title, 400, 401),
    )
    router.add_api_route(
        f"{base}/items",
        items,
        summary=f"{c.title}, a page at a time",
        description=f"{c.description} In id order, filtered by bbox and property values.",
        response_class=GeoJSONResponse,
        responses=_docs(GEOJSON, openapi.feature_collection(feature_schema), "A page", 400, 401),
        openapi_extra={"parameters": openapi.items_params(c.filters)},
    )
    router.add_api_route(
        f"{base}/items/{{feature_id}}",
        feature,
        summary=f"One of {c.title}",
        response_class=GeoJSONResponse,
        responses=_docs(GEOJSON, feature_schema, "One feature", 400, 401, 404),
    )


router = make_router(REGISTRY)
planning_router = make_router(PLANNING)
