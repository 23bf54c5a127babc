"""Serves the map page at `/` and its files under `/map/`, with the little the page needs of
its own: its settings, who is signed in, and the cameras layer's compact list. Every other
layer is read by the page from the node's API with the token it is given."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from hub.deps import PrincipalDep, SessionDep, SettingsDep
from hub.errors import NotFound, problem_responses
from hub.web.page import MapCameras, MapConfig, MapSession, media_type, security_headers
from hub.web.service import camera_points

STATIC = Path(__file__).parent / "static"


def _asset_table(root: Path) -> dict[str, Path]:
    """Every servable file by its URL path, listed once: a request can only name one of these,
    so no path from a client ever reaches the file system."""
    table: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and media_type(name) is not None:
            table[name] = path
    return table


ASSETS = _asset_table(STATIC)

web_router = APIRouter(tags=["web map"])


def _file(name: str, tile_url: str | None) -> FileResponse:
    path = ASSETS.get(name)
    kind = media_type(name)
    if path is None or kind is None:
        raise NotFound("File", name)
    return FileResponse(path, media_type=kind, headers=security_headers(tile_url))


@web_router.get("/", include_in_schema=False)
def index(settings: SettingsDep) -> FileResponse:
    return _file("index.html", settings.web_tile_url)


@web_router.get("/map/config.json", response_model=MapConfig)
def map_config(settings: SettingsDep) -> MapConfig:
    """The map page's public settings (the background tile URL, if any)."""
    return MapConfig(tile_url=settings.web_tile_url, tile_attribution=settings.web_tile_attribution)


@web_router.get("/map/session", response_model=MapSession, responses=problem_responses(401))
def map_session(principal: PrincipalDep) -> MapSession:
    """The signed-in token's role and organization, so the page shows the panels it may use."""
    org = principal.organization_id
    return MapSession(role=principal.role.value, organization_id=str(org) if org else None)


@web_router.get(
    "/map/cameras",
    response_model=MapCameras,
    responses=problem_responses(401),
)
def map_cameras(session: SessionDep, principal: PrincipalDep, settings: SettingsDep) -> Response:
    """Every camera the caller may see, compactly, for the map's cameras layer: `cameras` is a
    list of [id, longitude, latitude, owner slug, owner kind, status] in id order, at most
    `C4HUB_WEB_MAX_CAMERAS` of them (`total` says how many there are)."""
    points = camera_points(session, principal.org_scope, settings.web_max_cameras)
    body = f'{{"cameras":{points.json},"shown":{points.shown},"total":{points.total}}}'
    return Response(body, media_type="application/json")


@web_router.get("/map/{name:path}", include_in_schema=False)
def asset(name: str, settings: SettingsDep) -> FileResponse:
    return _file(name, settings.web_tile_url)
