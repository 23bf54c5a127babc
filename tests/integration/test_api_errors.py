"""Bad input gets a clear RFC 9457 problem and writes nothing."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.registry.models import Camera, Organization

Headers = dict[str, str]
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Camera)) or 0


def _assert_problem(r: Any, status: int, mentions: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    if mentions:
        assert mentions in str(body), body
    return body


@pytest.mark.parametrize(
    ("fields", "mentions"),
    [
        ({"location": {"type": "Point", "coordinates": [200, 37]}}, "longitude"),
        ({"location": {"type": "Point", "coordinates": [127, 91]}}, "latitude"),
        ({"heading_deg": 400}, "heading_deg"),
        ({"heading_deg": -5}, "heading_deg"),
        ({"fov_deg": 0}, "fov_deg"),
        ({"fov_deg": 400}, "fov_deg"),
        ({"units": "many"}, "units"),
        ({"ptz": "sometimes"}, "ptz"),
        ({"stream_uri": "rtsp://admin:pw@10.0.0.1/"}, "credentials"),
        ({"nonsense": True}, "nonsense"),
    ],
)
def test_bad_camera_is_refused_and_nothing_written(
    client: TestClient,
    org: Organization,
    admin: Headers,
    session: Session,
    fields: dict[str, Any],
    mentions: str,
) -> None:
    body = {"owner_id": str(org.id), "location": {"type": "Point", "coordinates": [127, 37]}}
    r = client.post("/api/v1/cameras", headers=admin, json={**body, **fields})
    problem = _assert_problem(r, 422, mentions)
    assert problem["invalid_params"]
    assert _count(session) == 0


def test_unknown_owner_is_404_and_nothing_written(
    client: TestClient, admin: Headers, session: Session
) -> None:
    body = {"owner_id": str(uuid.uuid4()), "location": {"type": "Point", "coordinates": [127, 37]}}
    _assert_problem(client.post("/api/v1/cameras", headers=admin, json=body), 404, "owner_id")
    assert _count(session) == 0


def test_nan_in_raw_json_is_refused(
    client: TestClient, org: Organization, admin: Headers, session: Session
) -> None:
    raw = f'{{"owner_id": "{org.id}", "location": {{"type": "Point", "coordinates": [NaN, 37]}}}}'
    r = client.post(
        "/api/v1/cameras", headers={**admin, "Content-Type": "application/json"}, content=raw
    )
    assert r.status_code == 422
    assert _count(session) == 0


def test_duplicate_external_id_is_a_conflict(
    client: TestClient, org: Organization, admin: Headers, session: Session
) -> None:
    body = {
        "owner_id": str(org.id),
        "external_id": "CAM-7",
        "location": {"type": "Point", "coordinates": [127, 37]},
    }
    assert client.post("/api/v1/cameras", headers=admin, json=body).status_code == 201
    _assert_problem(client.post("/api/v1/cameras", headers=admin, json=body), 409, "CAM-7")
    assert _count(session) == 1


def test_same_external_id_for_another_owner_is_fine(
    client: TestClient, make_org: Callable[..., Organization], admin: Headers
) -> None:
    for slug in ("a-org", "b-org"):
        o = make_org(slug)
        body = {
            "owner_id": str(o.id),
            "external_id": "CAM-7",
            "location": {"type": "Point", "coordinates": [127, 37]},
        }
        assert client.post("/api/v1/cameras", headers=admin, json=body).status_code == 201


def test_self_intersecting_search_polygon(client: TestClient, admin: Headers) -> None:
    r = client.post("/api/v1/cameras/within", headers=admin, json=BOWTIE)
    _assert_problem(r, 422, "Self-intersection")


def test_self_intersecting_jurisdiction_writes_nothing(
    client: TestClient, admin: Headers, session: Session
) -> None:
    r = client.post(
        "/api/v1/organizations",
        headers=admin,
        json={"slug": "bad", "name": "Bad", "kind": "district", "jurisdiction": BOWTIE},
    )
    _assert_problem(r, 422, "Self-intersection")
    assert session.scalar(select(func.count()).select_from(Organization)) == 0


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "0,0,nan,1"}, "bbox"),
        ({"near": "127,37"}, "radius_m"),
        ({"near": "127,95", "radius_m": 10}, "latitude"),
        ({"radius_m": 10}, "near"),
        ({"nearest": "x,y"}, "nearest"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"purpose": "spying"}, "purpose"),
        ({"within_org": "gangnam-gu"}, "jurisdiction"),
    ],
)
def test_bad_query_parameters(
    client: TestClient, org: Organization, admin: Headers, params: dict[str, Any], mentions: str
) -> None:
    _assert_problem(client.get("/api/v1/cameras", headers=admin, params=params), 422, mentions)


def test_unknown_camera_and_owner_are_404(client: TestClient, admin: Headers) -> None:
    ident = uuid.uuid4()
    _assert_problem(client.get(f"/api/v1/cameras/{ident}", headers=admin), 404, str(ident))
    _assert_problem(client.get("/api/v1/cameras", headers=admin, params={"owner": "nobody"}), 404)
    _assert_problem(client.get("/api/v1/cameras/not-a-uuid", headers=admin), 404)
    _assert_problem(client.get("/api/v1/nothing-here", headers=admin), 404)


def test_oversized_body_is_413(
    client: TestClient, org: Organization, admin: Headers, session: Session
) -> None:
    body = {
        "owner_id": str(org.id),
        "location": {"type": "Point", "coordinates": [127, 37]},
        "name": "x" * 2_000_000,
    }
    _assert_problem(client.post("/api/v1/cameras", headers=admin, json=body), 413, "bytes")
    assert _count(session) == 0


def test_oversized_chunked_body_is_413(client: TestClient, admin: Headers) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 65536

    r = client.post("/api/v1/cameras/within", headers=admin, content=chunks())
    _assert_problem(r, 413)


def test_malformed_json(client: TestClient, admin: Headers) -> None:
    r = client.post(
        "/api/v1/cameras", headers={**admin, "Content-Type": "application/json"}, content="{oops"
    )
    _assert_problem(r, 422)


def test_wrong_method_is_problem(client: TestClient, admin: Headers) -> None:
    _assert_problem(client.put("/api/v1/cameras", headers=admin, json={}), 405)


def test_nul_characters_are_refused(
    client: TestClient, org: Organization, admin: Headers, session: Session
) -> None:
    body = {
        "owner_id": str(org.id),
        "location": {"type": "Point", "coordinates": [127, 37]},
        "name": "bad\u0000name",
    }
    _assert_problem(client.post("/api/v1/cameras", headers=admin, json=body), 422, "name")
    _assert_problem(client.get("/api/v1/cameras", headers=admin, params={"tag": "a\x00"}), 422)
    _assert_problem(client.get("/api/v1/cameras", headers=admin, params={"owner": "a\x00"}), 422)
    assert _count(session) == 0


def test_undeclared_method_on_a_literal_path_is_405(client: TestClient, admin: Headers) -> None:
    r = client.patch("/api/v1/cameras/summary", headers=admin, json={})
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"


def test_renaming_to_a_taken_external_id_is_a_conflict(
    client: TestClient, org: Organization, admin: Headers
) -> None:
    base = {"owner_id": str(org.id), "location": {"type": "Point", "coordinates": [127, 37]}}
    client.post("/api/v1/cameras", headers=admin, json={**base, "external_id": "A"})
    second = client.post("/api/v1/cameras", headers=admin, json={**base, "external_id": "B"})
    cam_id = second.json()["id"]
    r = client.patch(f"/api/v1/cameras/{cam_id}", headers=admin, json={"external_id": "A"})
    _assert_problem(r, 409, "'A'")
    after = client.get(f"/api/v1/cameras/{cam_id}", headers=admin)
    assert after.status_code == 200 and after.json()["external_id"] == "B"
