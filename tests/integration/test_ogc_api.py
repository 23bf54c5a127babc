"""OGC API - Features over real PostGIS through TestClient; each test rolled back."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from hub.app import create_app
from hub.deps import get_session
from hub.registry.models import Camera, Organization
from hub.settings import Settings
from schemas.enums import (
    AdapterKind,
    CameraPurpose,
    CameraStatus,
    OrganizationKind,
    Role,
)

Headers = dict[str, str]
Json = dict[str, Any]
SECRET = b"sealed-credentials-must-never-leave"

# The seed: a 5 x 5 grid of cameras. Column i at lon 127.01 + 0.02 i, row j at lat 37.41 + 0.04 j.
# Rows 3-4 (lat 37.53, 37.57) belong to "north-gu", rows 0-2 to "south-corp". Even columns have a
# field of view (a small triangle), odd columns do not. Column 0 is traffic, the rest crime
# prevention; cameras in even rows are online, odd rows offline; column 4 holds credentials.
GRID = 5
SUBSET_BBOX = (127.0, 37.4, 127.04, 37.495)  # columns 0-1, rows 0-2: 6 cameras, 3 with a view
SUBSET_CAMERAS = 6
SUBSET_FOVS = 3
SUBSET_ORGS = 1  # south-corp's jurisdiction only; north-gu's starts at lat 37.5
NORTH_BOX = (127.0, 37.5, 127.1, 37.6)
SOUTH_BOX = (127.0, 37.4, 127.1, 37.5)


@dataclass(frozen=True)
class Seeded:
    north: uuid.UUID
    south: uuid.UUID
    bare: uuid.UUID  # an organization without a jurisdiction and without cameras
    cameras: list[uuid.UUID]


def _box_wkt(box: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = box
    return f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def _camera(owner: uuid.UUID, i: int, j: int, at: tuple[float, float] | None = None) -> Camera:
    """Grid camera (i, j), or one with the same attributes at `at` and without a view."""
    lon, lat = at or (127.01 + 0.02 * i, 37.41 + 0.04 * j)
    view = None
    if i % 2 == 0 and at is None:
        tip = f"{lon - 0.0003} {lat + 0.0004},{lon + 0.0003} {lat + 0.0004}"
        view = f"SRID=4326;POLYGON(({lon} {lat},{tip},{lon} {lat}))"
    return Camera(
        id=uuid.uuid4(),
        owner_id=owner,
        external_id=f"cam-{i}-{j}",
        name=f"Camera {i},{j}",
        purpose=CameraPurpose.TRAFFIC if i == 0 else CameraPurpose.CRIME_PREVENTION,
        location=f"SRID=4326;POINT({lon} {lat})",
        heading_deg=0.0 if view else None,
        fov_deg=60.0 if view else None,
        range_m=50.0 if view else None,
        ptz=j == 0,
        vendor="Hanwha" if i < 2 else "Axis",
        install_year=2015 + j,
        ai_capable=i == j,
        adapter=AdapterKind.ONVIF if i % 2 == 0 else AdapterKind.RTSP,
        stream_uri=f"rtsp://10.0.{i}.{j}/main",
        credentials_sealed=SECRET if i == 4 else None,
        status=CameraStatus.ONLINE if j % 2 == 0 else CameraStatus.OFFLINE,
        tags=["grid"],
        units=1,
        fov=view,
    )


def seed(session: Session, with_bare_org: bool = True) -> Seeded:
    """Two organizations with jurisdictions, one without (optional), 25 cameras; flushed only."""
    north = Organization(
        id=uuid.uuid4(),
        slug="north-gu",
        name="North District",
        kind=OrganizationKind.DISTRICT,
        jurisdiction=_box_wkt(NORTH_BOX),
    )
    south = Organization(
        id=uuid.uuid4(),
        slug="south-corp",
        name="South Corp",
        kind=OrganizationKind.PRIVATE_BUSINESS,
        jurisdiction=_box_wkt(SOUTH_BOX),
    )
    bare = Organization(id=uuid.uuid4(), slug="bare-org", name="Bare", kind=OrganizationKind.POLICE)
    session.add_all([north, south, bare] if with_bare_org else [north, south])
    session.flush()
    cameras = [
        _camera(north.id if j >= 3 else south.id, i, j) for i in range(GRID) for j in range(GRID)
    ]
    session.add_all(cameras)
    session.flush()
    return Seeded(north.id, south.id, bare.id, [c.id for c in cameras])


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


@pytest.fixture
def public_client(settings: Settings, engine: Engine, session: Session) -> Iterator[TestClient]:
    """A node that publishes its OGC collections as open data."""
    app = create_app(settings.model_copy(update={"ogc_public": True}), engine)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _get(client: TestClient, path: str, headers: Headers, **params: Any) -> Json:
    r = client.get(f"/ogc{path}", headers=headers, params=params)
    assert r.status_code == 200, r.text
    body: Json = r.json()
    return body


def _items(client: TestClient, collection: str, headers: Headers, **params: Any) -> Json:
    return _get(client, f"/collections/{collection}/items", headers, **params)


def _rels(doc: Json) -> dict[str, Json]:
    return {link["rel"]: link for link in doc["links"]}


def _query(href: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(href).query, strict_parsing=True))


def _problem(client: TestClient, path: str, status: int, headers: Headers, **params: Any) -> Json:
    r = client.get(f"/ogc{path}", headers=headers, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: Json = r.json()
    assert body["status"] == status
    return body


# --- landing page, conformance, API definition ----------------------------------------------


@pytest.mark.parametrize("path", ["/ogc", "/ogc/"])
def test_landing_page_is_public_and_links_the_api(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    links = r.json()["links"]
    assert all({"href", "rel", "type"} <= set(link) for link in links)
    by_type = {link["type"]: link for link in links if link["rel"] == "service-desc"}
    assert by_type["application/vnd.oai.openapi+json;version=3.0"]["href"] == (
        "http://testserver/ogc/api"
    )
    assert by_type["application/vnd.oai.openapi+json;version=3.1"]["href"] == (
        "http://testserver/openapi.json"
    )
    rels = _rels(r.json())
    assert rels["self"]["href"] == "http://testserver/ogc"
    assert rels["conformance"]["href"] == "http://testserver/ogc/conformance"
    assert rels["data"]["href"] == "http://testserver/ogc/collections"


def test_links_use_the_public_url_when_set(
    settings: Settings, engine: Engine, session: Session
) -> None:
    app = create_app(settings.model_copy(update={"public_url": "https://hub.example.org/"}), engine)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        rels = _rels(c.get("/ogc").json())
    assert rels["self"]["href"] == "https://hub.example.org/ogc"
    assert rels["data"]["href"] == "https://hub.example.org/ogc/collections"


def test_conformance_declares_only_what_is_implemented(client: TestClient) -> None:
    classes = _get(client, "/conformance", {})["conformsTo"]
    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert sorted(classes) == [base + "core", base + "geojson", base + "oas30"]


def test_api_definition_is_openapi_30_with_a_path_per_collection(client: TestClient) -> None:
    r = client.get("/ogc/api")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.json()
    assert doc["openapi"].startswith("3.0.")
    assert doc["servers"] == [{"url": "http://testserver/ogc"}]
    items = doc["paths"]["/collections/cameras/items"]["get"]
    params = {p["name"]: p for p in items["parameters"]}
    assert {"bbox", "limit", "offset", "datetime", "purpose", "owner"} <= set(params)
    assert params["bbox"]["schema"]["minItems"] == 4 and params["bbox"]["explode"] is False
    assert items["security"] == [{"bearerAuth": []}]
    org_params = doc["paths"]["/collections/organizations/items"]["get"]["parameters"]
    assert {p["name"] for p in org_params} >= {"slug", "kind"}
    assert "purpose" not in {p["name"] for p in org_params}


def test_api_definition_of_an_open_node_asks_for_no_token(public_client: TestClient) -> None:
    doc = public_client.get("/ogc/api").json()
    assert "components" not in doc
    assert all("security" not in ops["get"] for ops in doc["paths"].values())


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def test_node_openapi_documents_ogc_routes_with_local_refs_only(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "/ogc/collections/camera-fov/items/{feature_id}" in doc["paths"]
    refs = _refs(doc) + _refs(client.get("/ogc/api").json())
    assert refs and all(ref.startswith("#/") for ref in refs)
    schemas = doc["components"]["schemas"]
    assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs)


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/collections", "/collections/cameras", "/collections/cameras/items"]
)
def test_collections_need_a_token_on_a_closed_node(client: TestClient, path: str) -> None:
    r = client.get(f"/ogc{path}")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    bad = client.get(f"/ogc{path}", headers={"Authorization": "Bearer c4h_unknown"})
    assert bad.status_code == 401


def test_an_open_node_serves_collections_without_a_token(
    public_client: TestClient, seeded: Seeded
) -> None:
    assert len(_get(public_client, "/collections", {})["collections"]) == 3
    assert _items(public_client, "cameras", {})["numberMatched"] == 25


def test_business_token_sees_only_its_organization(
    client: TestClient, seeded: Seeded, session: Session, auth: Callable[..., Headers]
) -> None:
    south = session.get(Organization, seeded.south)
    h = auth(Role.BUSINESS, south)
    cams = _items(client, "cameras", h, limit=100)
    assert cams["numberMatched"] == 15
    assert {f["properties"]["owner"] for f in cams["features"]} == {"south-corp"}
    orgs = _items(client, "organizations", h)
    assert [f["id"] for f in orgs["features"]] == [str(seeded.south)]
    north_camera = seeded.cameras[GRID - 1]  # column 0, row 4: north-gu's
    _problem(client, f"/collections/cameras/items/{north_camera}", 404, h)
    _problem(client, f"/collections/organizations/items/{seeded.north}", 404, h)
    extent = _get(client, "/collections/cameras", h)["extent"]["spatial"]["bbox"][0]
    assert extent == pytest.approx([127.01, 37.41, 127.09, 37.49])


# --- collections -----------------------------------------------------------------------------


def test_collections_describe_each_collection_with_its_extent(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    doc = _get(client, "/collections", admin)
    assert _rels(doc)["self"]["href"] == "http://testserver/ogc/collections"
    by_id = {c["id"]: c for c in doc["collections"]}
    assert list(by_id) == ["cameras", "camera-fov", "organizations"]
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    for c in by_id.values():
        assert c["itemType"] == "feature" and c["crs"] == [crs84]
        items = _rels(c)["items"]
        assert items["type"] == "application/geo+json"
        assert items["href"] == f"http://testserver/ogc/collections/{c['id']}/items"
        assert _get(client, f"/collections/{c['id']}", admin) == c
    bbox = by_id["cameras"]["extent"]["spatial"]["bbox"][0]
    assert bbox == pytest.approx([127.01, 37.41, 127.09, 37.57])
    assert by_id["organizations"]["extent"]["spatial"]["bbox"][0] == pytest.approx(
        [127.0, 37.4, 127.1, 37.6]
    )


def test_empty_collection_extent_is_the_world(client: TestClient, admin: Headers) -> None:
    doc = _get(client, "/collections/camera-fov", admin)
    assert doc["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]


def test_unknown_collection_is_404(client: TestClient, admin: Headers) -> None:
    _problem(client, "/collections/nope", 404, admin)
    _problem(client, "/collections/nope/items", 404, admin)


# --- items: paging ---------------------------------------------------------------------------


def test_first_page_has_ten_features_and_a_next_link(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    r = client.get("/ogc/collections/cameras/items", headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    page = r.json()
    assert page["type"] == "FeatureCollection"
    assert (page["numberMatched"], page["numberReturned"], len(page["features"])) == (25, 10, 10)
    assert page["timeStamp"].endswith("Z")
    rels = _rels(page)
    assert rels["self"]["href"] == "http://testserver/ogc/collections/cameras/items"
    assert rels["next"]["href"].startswith("http://testserver/ogc/collections/cameras/items?")
    assert _query(rels["next"]["href"]) == {"limit": "10", "offset": "10"}
    assert "prev" not in rels
    first = page["features"][0]
    assert first["geometry"]["type"] == "Point" and first["id"] in map(str, seeded.cameras)


def test_following_next_links_returns_every_feature_once(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    url: str | None = "/ogc/collections/cameras/items?limit=7&purpose=crime_prevention"
    ids: list[str] = []
    pages = 0
    while url:
        r = client.get(url, headers=admin)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["numberMatched"] == 20
        ids += [f["id"] for f in page["features"]]
        url = _rels(page).get("next", {}).get("href")
        pages += 1
    assert pages == 3
    assert len(ids) == len(set(ids)) == 20


def test_middle_page_links_both_ways_and_keeps_filters(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    page = _items(client, "cameras", admin, limit=5, offset=10, status="online")
    assert (page["numberMatched"], page["numberReturned"]) == (15, 5)
    rels = _rels(page)
    assert _query(rels["prev"]["href"]) == {"limit": "5", "offset": "5", "status": "online"}
    assert _query(rels["self"]["href"]) == {"limit": "5", "offset": "10", "status": "online"}
    assert "next" not in rels


def test_offset_past_the_end_counts_and_returns_nothing(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    page = _items(client, "cameras", admin, offset=100)
    assert (page["numberMatched"], page["numberReturned"], page["features"]) == (25, 0, [])


def test_largest_page(client: TestClient, seeded: Seeded, admin: Headers) -> None:
    page = _items(client, "cameras", admin, limit=10_000)
    assert page["numberReturned"] == 25 and "next" not in _rels(page)


def test_a_page_costs_two_queries_whatever_its_size(
    client: TestClient, seeded: Seeded, admin: Headers, connection: Connection
) -> None:
    def statements(limit: int) -> list[str]:
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(args[2])  # (conn, cursor, statement, ...)

        event.listen(connection, "before_cursor_execute", record)
        try:
            assert _items(client, "cameras", admin, limit=limit)["numberReturned"] == limit
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return seen

    statements(1)  # the first request also checks the token; later ones find it cached
    small, large = statements(2), statements(20)
    assert len(small) == len(large)  # nothing per feature
    on_cameras = [s for s in large if "FROM cameras" in s]
    assert len(on_cameras) == 2  # the page (owners joined in) and the count
    assert sum("count(*)" in s for s in on_cameras) == 1


# --- items: bbox and property filters --------------------------------------------------------


def _inside(feature: Json, box: tuple[float, float, float, float]) -> bool:
    lon, lat = feature["geometry"]["coordinates"]
    return bool(box[0] <= lon <= box[2] and box[1] <= lat <= box[3])


def test_bbox_returns_exactly_the_cameras_inside(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    bbox = ",".join(map(str, SUBSET_BBOX))
    page = _items(client, "cameras", admin, bbox=bbox, limit=100)
    assert page["numberMatched"] == SUBSET_CAMERAS == len(page["features"])
    assert all(_inside(f, SUBSET_BBOX) for f in page["features"])
    outside = _items(client, "cameras", admin, limit=100)["features"]
    assert sum(_inside(f, SUBSET_BBOX) for f in outside) == SUBSET_CAMERAS


def test_bbox_on_fields_of_view_and_jurisdictions(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    bbox = ",".join(map(str, SUBSET_BBOX))
    assert _items(client, "camera-fov", admin, bbox=bbox)["numberMatched"] == SUBSET_FOVS
    orgs = _items(client, "organizations", admin, bbox=bbox)["features"]
    # The bbox also matches features without a geometry (/req/core/fc-bbox-response).
    assert len(orgs) == SUBSET_ORGS + 1
    assert {f["properties"]["slug"] for f in orgs} == {"south-corp", "bare-org"}
    assert next(f for f in orgs if f["properties"]["slug"] == "bare-org")["geometry"] is None


def test_six_number_bbox_ignores_heights(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    x0, y0, x1, y1 = SUBSET_BBOX
    page = _items(client, "cameras", admin, bbox=f"{x0},{y0},-10,{x1},{y1},500")
    assert page["numberMatched"] == SUBSET_CAMERAS


def test_bbox_across_the_antimeridian(
    client: TestClient, session: Session, admin: Headers, make_org: Callable[..., Organization]
) -> None:
    owner = make_org("pacific")
    east = _camera(owner.id, 0, 0, at=(179.5, 0))
    west = _camera(owner.id, 1, 0, at=(-179.5, 0))
    far = _camera(owner.id, 2, 0, at=(0, 0))
    session.add_all([east, west, far])
    session.flush()
    page = _items(client, "cameras", admin, bbox="179,-1,-179,1")
    assert {f["id"] for f in page["features"]} == {str(east.id), str(west.id)}


@pytest.mark.parametrize(
    ("collection", "params", "expected"),
    [
        ("cameras", {"purpose": "traffic"}, 5),
        ("cameras", {"status": "online"}, 15),
        ("cameras", {"owner_kind": "district"}, 10),
        ("cameras", {"owner": "north-gu"}, 10),
        ("cameras", {"owner": "nobody"}, 0),
        ("cameras", {"ai_capable": "true"}, 5),
        ("cameras", {"ai_capable": "0"}, 20),
        ("cameras", {"ptz": "true"}, 5),
        ("cameras", {"adapter": "onvif"}, 15),
        ("cameras", {"vendor": "Axis"}, 15),
        ("cameras", {"install_year": "2015"}, 5),
        ("cameras", {"purpose": "traffic", "owner": "north-gu"}, 2),
        ("camera-fov", {"adapter": "rtsp"}, 0),
        ("camera-fov", {"owner": "south-corp"}, 9),
        ("organizations", {"kind": "district"}, 1),
        ("organizations", {"slug": "south-corp"}, 1),
    ],
)
def test_property_filters(
    client: TestClient,
    seeded: Seeded,
    admin: Headers,
    collection: str,
    params: dict[str, str],
    expected: int,
) -> None:
    page = _items(client, collection, admin, limit=100, **params)
    assert page["numberMatched"] == expected == len(page["features"])
    for name, value in params.items():
        if name in ("purpose", "owner", "adapter", "vendor", "slug", "kind"):
            assert all(f["properties"][name] == value for f in page["features"])


def test_datetime_is_accepted_and_matches_everything(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    for value in ("2024-01-01T00:00:00Z", "2020-01-01/..", "../2030-12-31", "2020-01-01"):
        assert _items(client, "cameras", admin, datetime=value)["numberMatched"] == 25


@pytest.mark.parametrize("f", ["json", "geojson"])
def test_format_parameter(client: TestClient, seeded: Seeded, admin: Headers, f: str) -> None:
    assert _items(client, "cameras", admin, f=f)["numberMatched"] == 25


# --- items: errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"ooga": "booga"}, "ooga"),
        ({"slug": "south-corp"}, "slug"),  # an organizations filter, not a camera one
        ({"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, "bbox-crs"),
        ({"limit": "unlimited"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"offset": str(2**63)}, "offset"),
        ({"install_year": str(2**70)}, "install_year"),
        ({"vendor": "Ax\x00is"}, "vendor"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "127,37.6,128,37.4"}, "bbox"),
        ({"bbox": "127,37,200,38"}, "bbox"),
        ({"bbox": "nan,0,1,1"}, "bbox"),
        ({"purpose": "spying"}, "purpose"),
        ({"ai_capable": "yes"}, "ai_capable"),
        ({"install_year": "recent"}, "install_year"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"f": "html"}, "f"),
    ],
)
def test_bad_query_is_400(
    client: TestClient, admin: Headers, params: dict[str, str], name: str
) -> None:
    body = _problem(client, "/collections/cameras/items", 400, admin, **params)
    assert body["invalid_params"][0]["name"] == name


def test_repeated_parameter_is_400(client: TestClient, admin: Headers) -> None:
    r = client.get("/ogc/collections/cameras/items?limit=1&limit=2", headers=admin)
    assert r.status_code == 400 and r.json()["invalid_params"][0]["name"] == "limit"


@pytest.mark.parametrize("path", ["", "/conformance", "/api", "/collections"])
def test_other_endpoints_reject_unknown_parameters(
    client: TestClient, admin: Headers, path: str
) -> None:
    _problem(client, path, 400, admin, ooga="booga")


# --- single features -------------------------------------------------------------------------


def test_single_feature_with_links(client: TestClient, seeded: Seeded, admin: Headers) -> None:
    cid = seeded.cameras[0]
    r = client.get(f"/ogc/collections/camera-fov/items/{cid}", headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    assert feature["type"] == "Feature" and feature["id"] == str(cid)
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["external_id"] == "cam-0-0"
    rels = _rels(feature)
    assert rels["self"]["href"] == f"http://testserver/ogc/collections/camera-fov/items/{cid}"
    assert rels["collection"]["href"] == "http://testserver/ogc/collections/camera-fov"
    org = _get(client, f"/collections/organizations/items/{seeded.bare}", admin)
    assert org["geometry"] is None and org["properties"]["kind"] == "police"


def test_missing_features_are_404(client: TestClient, seeded: Seeded, admin: Headers) -> None:
    _problem(client, f"/collections/cameras/items/{uuid.uuid4()}", 404, admin)
    _problem(client, "/collections/cameras/items/not-a-uuid", 404, admin)
    no_view = seeded.cameras[GRID]  # column 1: no field of view
    _problem(client, f"/collections/camera-fov/items/{no_view}", 404, admin)
    _problem(client, f"/collections/cameras/items/{seeded.north}", 404, admin)


# --- secrets ---------------------------------------------------------------------------------


def test_credentials_never_leave_the_node(
    client: TestClient, seeded: Seeded, admin: Headers
) -> None:
    texts = [
        client.get(f"/ogc/collections/{c}/items?limit=100", headers=admin).text
        for c in ("cameras", "camera-fov")
    ]
    texts.append(
        client.get(f"/ogc/collections/cameras/items/{seeded.cameras[-1]}", headers=admin).text
    )
    for text in texts:
        assert SECRET.decode() not in text
        assert "credentials_sealed" not in text and "password" not in text
    page = _items(client, "cameras", admin, limit=100)
    expected = {str(c) for c in seeded.cameras[(GRID - 1) * GRID :]}  # column 4
    flagged = {f["id"] for f in page["features"] if f["properties"]["has_credentials"]}
    assert flagged == expected
