from collections.abc import Callable

from fastapi.testclient import TestClient

from hub.registry.models import Organization

Headers = dict[str, str]
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[127.0, 37.4], [127.1, 37.4], [127.1, 37.6], [127.0, 37.6], [127.0, 37.4]]],
}


def test_create_read_update_delete(client: TestClient, auth: Callable[..., Headers]) -> None:
    admin = auth()
    r = client.post(
        "/api/v1/organizations",
        headers=admin,
        json={
            "slug": "gangnam-gu",
            "name": "Gangnam-gu",
            "kind": "district",
            "jurisdiction": SQUARE,
        },
    )
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["jurisdiction"]["type"] == "MultiPolygon"
    assert org["jurisdiction"]["coordinates"][0] == SQUARE["coordinates"]
    r = client.patch(f"/api/v1/organizations/{org['id']}", headers=admin, json={"name": "강남구"})
    assert r.json()["name"] == "강남구"
    assert [o["slug"] for o in client.get("/api/v1/organizations", headers=admin).json()] == [
        "gangnam-gu"
    ]
    assert client.delete(f"/api/v1/organizations/{org['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/organizations/{org['id']}", headers=admin).status_code == 404


def test_cannot_delete_an_owner_of_cameras(
    client: TestClient, make_org: Callable[..., Organization], auth: Callable[..., Headers]
) -> None:
    admin = auth()
    org = make_org()
    cam = {"owner_id": str(org.id), "location": {"type": "Point", "coordinates": [127, 37]}}
    assert client.post("/api/v1/cameras", headers=admin, json=cam).status_code == 201
    r = client.delete(f"/api/v1/organizations/{org.id}", headers=admin)
    assert r.status_code == 409 and "owns cameras" in r.json()["detail"]


def test_null_name_is_refused(
    client: TestClient, make_org: Callable[..., Organization], auth: Callable[..., Headers]
) -> None:
    org = make_org()
    r = client.patch(f"/api/v1/organizations/{org.id}", headers=auth(), json={"name": None})
    assert r.status_code == 422
