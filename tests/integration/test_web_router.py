"""The map page and its files as the node serves them: headers, the asset table, the page's
settings and the signed-in session. The page itself is tested in a browser (tests/e2e)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.app import create_app
from hub.deps import get_session
from hub.registry.models import Organization
from hub.settings import Settings
from hub.web.page import security_headers, tile_origin
from hub.web.router import ASSETS, STATIC
from schemas.enums import OrganizationKind, Role

Headers = dict[str, str]


def test_page_is_served_at_the_root_with_a_strict_policy(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script src="/map/map.js"></script>' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "connect-src 'self'" in policy and "img-src 'self' data:;" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"


def test_every_file_the_page_names_is_served_from_the_package(client: TestClient) -> None:
    page = (STATIC / "index.html").read_text()
    for name, kind in [
        ("map.js", "text/javascript; charset=utf-8"),
        ("map.css", "text/css; charset=utf-8"),
        ("vendor/leaflet/leaflet.js", "text/javascript; charset=utf-8"),
        ("vendor/leaflet/leaflet.css", "text/css; charset=utf-8"),
        ("vendor/markercluster/leaflet.markercluster.js", "text/javascript; charset=utf-8"),
        ("vendor/leaflet/images/layers.png", "image/png"),
        ("vendor/leaflet/LICENSE", "text/plain; charset=utf-8"),
        ("vendor/markercluster/LICENSE", "text/plain; charset=utf-8"),
    ]:
        response = client.get(f"/map/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == kind
        assert response.content == (STATIC / name).read_bytes()
        if kind.startswith(("text/javascript", "text/css")):
            assert f"/map/{name}" in page, name  # the page loads it (no CDN)
    assert client.get("/map/vendor/VERSIONS").text.startswith("leaflet 1.9.4\n")


def test_unknown_and_escaping_paths_are_404_problems(client: TestClient) -> None:
    for path in (
        "/map/nope.js",
        "/map/../settings.py",
        "/map/%2e%2e/router.py",
        "/map/..%2Frouter.py",
        "/map/vendor/../../router.py",
        "/map/router.py",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path
    # Only files with a known type under static/ are listed at all.
    assert all(not name.endswith(".py") and ".." not in name for name in ASSETS)
    assert "index.html" in ASSETS and "map.js" in ASSETS


def test_map_config_is_public(client: TestClient) -> None:
    response = client.get("/map/config.json")
    assert response.status_code == 200
    assert response.json() == {"tile_url": None, "tile_attribution": ""}


def test_tile_url_setting_reaches_config_and_policy(
    database_url: str, engine: Engine, session: Session, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=None,
        web_tile_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png",
        web_tile_attribution="© Example contributors",
    )
    app = create_app(settings, engine)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as client:
        assert client.get("/map/config.json").json() == {
            "tile_url": "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
            "tile_attribution": "© Example contributors",
        }
        policy = client.get("/").headers["content-security-policy"]
        assert "img-src 'self' data: https://*.tiles.example.org;" in policy


@pytest.mark.parametrize(
    "url",
    ["ftp://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/tile.png", "{z}"],
)
def test_tile_url_must_be_an_http_template(url: str) -> None:
    with pytest.raises(ValidationError, match="web_tile_url"):
        Settings(web_tile_url=url)


def test_tile_origin() -> None:
    assert tile_origin(None) is None
    assert tile_origin("http://127.0.0.1:8080/t/{z}/{x}/{y}.png") == "http://127.0.0.1:8080"
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == (
        "https://*.tile.example.org"
    )
    assert (
        "img-src 'self' data: http://10.0.0.5"
        in (security_headers("http://10.0.0.5/{z}/{x}/{y}.png")["Content-Security-Policy"])
    )


def test_session_says_who_signed_in(
    client: TestClient,
    auth: Callable[..., Headers],
    make_org: Callable[..., Organization],
) -> None:
    assert client.get("/map/session").status_code == 401
    bad = client.get("/map/session", headers={"Authorization": "Bearer c4h_nope"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"
    assert client.get("/map/session", headers=auth(Role.PLANNER)).json() == {
        "role": "planner",
        "organization_id": None,
    }
    shop = make_org("shop", OrganizationKind.PRIVATE_BUSINESS)
    assert client.get("/map/session", headers=auth(Role.BUSINESS, shop)).json() == {
        "role": "business",
        "organization_id": str(shop.id),
    }


def _camera(client: TestClient, headers: Headers, owner: Organization, lon: float) -> str:
    body = {
        "owner_id": str(owner.id),
        "location": {"type": "Point", "coordinates": [lon, 37.5]},
        "status": "online",
    }
    response = client.post("/api/v1/cameras", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_map_cameras_lists_what_the_caller_may_see(
    client: TestClient,
    auth: Callable[..., Headers],
    make_org: Callable[..., Organization],
) -> None:
    district = make_org("gangnam-gu")
    shop = make_org("shop", OrganizationKind.PRIVATE_BUSINESS)
    admin = auth(Role.ADMIN)
    public = sorted(_camera(client, admin, district, 127.0 + i / 100) for i in range(3))
    private = _camera(client, admin, shop, 127.1234567)

    assert client.get("/map/cameras").status_code == 401
    everything = client.get("/map/cameras", headers=auth(Role.PLANNER)).json()
    assert (everything["shown"], everything["total"]) == (4, 4)
    rows = {row[0]: row for row in everything["cameras"]}
    assert [row[0] for row in everything["cameras"]] == sorted(rows)  # id order
    assert rows[private] == [private, 127.1234567, 37.5, "shop", "private_business", "online"]
    assert rows[public[0]][3:] == ["gangnam-gu", "district", "online"]

    # A business sees its own cameras only, as in the registry.
    own = client.get("/map/cameras", headers=auth(Role.BUSINESS, shop)).json()
    assert own == {"cameras": [rows[private]], "shown": 1, "total": 1}
    nothing = make_org("other-shop", OrganizationKind.PRIVATE_BUSINESS)
    assert client.get("/map/cameras", headers=auth(Role.BUSINESS, nothing)).json() == {
        "cameras": [],
        "shown": 0,
        "total": 0,
    }


def test_map_cameras_stops_at_the_limit_and_says_so(
    client: TestClient,
    auth: Callable[..., Headers],
    make_org: Callable[..., Organization],
) -> None:
    district = make_org("gangnam-gu")
    admin = auth(Role.ADMIN)
    ids = sorted(_camera(client, admin, district, 127.0 + i / 100) for i in range(3))
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"web_max_cameras": 2}
    )
    page = client.get("/map/cameras", headers=admin).json()
    assert [row[0] for row in page["cameras"]] == ids[:2]
    assert (page["shown"], page["total"]) == (2, 3)
