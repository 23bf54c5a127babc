def test_create_and_get(client, make_org, auth):
    org = make_org()
    h = auth()
    r = client.post("/api/v1/cameras", headers=h, json={
        "owner_id": str(org.id), "location": {"type": "Point", "coordinates": [127.03, 37.5]},
        "heading_deg": 90, "fov_deg": 60, "range_m": 50, "units": 3,
        "credentials": {"username": "u", "password": "p"}})
    assert r.status_code == 201, r.text
    cam = r.json()
    assert cam["fov"]["type"] == "Polygon" and cam["has_credentials"]
    r = client.get("/api/v1/cameras", headers=h, params={"near": "127.03,37.5", "radius_m": 100})
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 1
    r = client.get("/api/v1/cameras/summary", headers=h)
    assert r.status_code == 200, r.text
    print(r.json())
    r = client.get("/api/v1/cameras", headers={"Accept": "application/geo+json", **h}, params={"nearest": "127.03,37.5"})
    assert r.json()["type"] == "FeatureCollection", r.text
    r = client.get("/api/v1/cameras", headers=h, params={"covers": "127.0303,37.5"})
    assert len(r.json()["items"]) == 1, r.text
    assert client.get("/api/v1/cameras").status_code == 401
