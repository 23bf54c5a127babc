"""The registry never exceeds the tier granted: cameras whose consent ended are off the map for
all but their owner (list, every filter, summary, one camera, OGC collections); an enrolled
camera's addresses are its owner's alone; probes need a tier that allows them; a camera whose
consent ended is not changed."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.enrolment import service
from hub.registry import tasks
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enrolment import Approve, EnrolmentCreate, Reject
from schemas.enums import OrganizationKind, Role

Headers = dict[str, str]
PASSWORD = "c0nsent-secret-never-shown"
SHOP_STREAM = "rtsp://127.0.0.1:1/shop"
CITY_STREAM = "rtsp://127.0.0.1:1/city"
REVIEWER = uuid.uuid4()


@dataclass(frozen=True)
class Fleet:
    city: Camera  # a public body's camera: not enrolled
    submitted: Camera
    live: Camera  # approved, live_always
    registry_only: Camera  # approved, registry_only
    on_request: Camera  # approved, on_request
    rejected: Camera
    withdrawn: Camera

    @property
    def hidden(self) -> set[str]:
        return {str(self.rejected.id), str(self.withdrawn.id)}

    @property
    def shown(self) -> set[str]:
        cams = (self.city, self.submitted, self.live, self.registry_only, self.on_request)
        return {str(c.id) for c in cams}


def _enrol(session: Session, box: CredentialBox, shop: Organization, tier: str) -> Any:
    data = EnrolmentCreate.model_validate(
        {
            "location": {"type": "Point", "coordinates": [127.03, 37.51]},
            "heading_deg": 90,
            "fov_deg": 60,
            "range_m": 30,
            "adapter": "rtsp",
            "stream_uri": SHOP_STREAM,
            "snapshot_uri": "http://127.0.0.1:1/snap.jpg",
            "credentials": {"username": "viewer", "password": PASSWORD},
            "consent_tier": tier,
        }
    )
    enrolment, _ = service.enrol(session, box, shop.id, data)
    return enrolment


def _camera(session: Session, enrolment: Any) -> Camera:
    camera = session.get(Camera, enrolment.camera_id)
    assert camera is not None
    return camera


@pytest.fixture
def shop(make_org: Callable[..., Organization]) -> Organization:
    return make_org("corner-shop", kind=OrganizationKind.PRIVATE_BUSINESS)


@pytest.fixture
def fleet(session: Session, box: CredentialBox, org: Organization, shop: Organization) -> Fleet:
    city = create_camera(
        session,
        box,
        CameraCreate.model_validate(
            {
                "location": {"type": "Point", "coordinates": [127.031, 37.511]},
                "heading_deg": 0,
                "fov_deg": 60,
                "range_m": 30,
                "adapter": "rtsp",
                "stream_uri": CITY_STREAM,
            }
        ),
        org.id,
    )
    approve = Approve(decision="approve")
    states: dict[str, Camera] = {}
    for name, tier in (
        ("submitted", "live_always"),
        ("live", "live_always"),
        ("registry_only", "registry_only"),
        ("on_request", "on_request"),
        ("rejected", "on_request"),
        ("withdrawn", "live_always"),
    ):
        enrolment = _enrol(session, box, shop, tier)
        if name in ("live", "registry_only", "on_request", "withdrawn"):
            service.review(session, enrolment, approve, REVIEWER)
        if name == "rejected":
            service.review(session, enrolment, Reject(decision="reject", reason="no"), REVIEWER)
        if name == "withdrawn":
            service.withdraw(session, enrolment)
        states[name] = _camera(session, enrolment)
    session.commit()
    return Fleet(city=city, **states)


@pytest.fixture
def biz(auth: Callable[..., Headers], shop: Organization) -> Headers:
    return auth(Role.BUSINESS, shop)


@pytest.fixture
def operator(auth: Callable[..., Headers]) -> Headers:
    return auth(Role.OPERATOR)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    messages: list[list[str]] = []

    def record(args: list[str], **_: Any) -> None:
        messages.append(args)

    monkeypatch.setattr(tasks.probe_camera, "apply_async", record)
    return messages


def _ids(client: TestClient, headers: Headers, **params: Any) -> set[str]:
    r = client.get("/api/v1/cameras", headers=headers, params=params)
    assert r.status_code == 200, r.text
    assert PASSWORD not in r.text
    return {c["id"] for c in r.json()["items"]}


def _is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


# --- off the map ------------------------------------------------------------------------------


FILTERS: list[dict[str, Any]] = [
    {},
    {"owner": "corner-shop"},
    {"owner_kind": "private_business"},
    {"status": "decommissioned"},
    {"bbox": "127.0,37.5,127.1,37.6"},
    {"near": "127.03,37.51", "radius_m": 500},
    {"nearest": "127.03,37.51", "k": 100},
    {"covers": "127.0302,37.51"},
    {"adapter": "rtsp"},
    {"purpose": "private_premises"},
]


@pytest.mark.parametrize("params", FILTERS)
@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR, Role.PLANNER])
def test_rejected_and_withdrawn_cameras_are_off_every_listing(
    client: TestClient,
    auth: Callable[..., Headers],
    biz: Headers,
    fleet: Fleet,
    role: Role,
    params: dict[str, Any],
) -> None:
    seen = _ids(client, auth(role), **params)
    assert not seen & fleet.hidden
    # The owning business sees its own cameras, whatever became of their consent.
    own = _ids(client, biz, **params)
    assert own <= fleet.shown | fleet.hidden and str(fleet.city.id) not in own
    # Every filter matches the hidden cameras: they are left out for consent alone.
    assert own >= fleet.hidden
    if params.get("status") == "decommissioned":
        assert own == fleet.hidden and seen == set()
    else:
        assert seen & fleet.shown


def test_the_unfiltered_list_shows_exactly_the_cameras_on_the_map(
    client: TestClient, admin: Headers, biz: Headers, fleet: Fleet
) -> None:
    assert _ids(client, admin) == fleet.shown
    assert _ids(client, biz) == (fleet.shown | fleet.hidden) - {str(fleet.city.id)}
    r = client.post(
        "/api/v1/cameras/within",
        headers=admin,
        json={
            "type": "Polygon",
            "coordinates": [[[127.0, 37.5], [127.1, 37.5], [127.1, 37.6], [127.0, 37.5]]],
        },
    )
    assert r.status_code == 200 and {c["id"] for c in r.json()["items"]} == fleet.shown


def test_the_summary_counts_only_cameras_on_the_map(
    client: TestClient, admin: Headers, biz: Headers, fleet: Fleet
) -> None:
    everyone = client.get("/api/v1/cameras/summary", headers=admin).json()
    assert everyone["records"] == len(fleet.shown)
    statuses = {b["key"] for b in everyone["by_status"]}
    assert "decommissioned" not in statuses
    own = client.get("/api/v1/cameras/summary", headers=biz).json()
    assert own["records"] == len(fleet.shown) - 1 + len(fleet.hidden)


def test_one_camera_off_the_map_is_404_but_its_owner_sees_it(
    client: TestClient, admin: Headers, biz: Headers, fleet: Fleet
) -> None:
    for camera in (fleet.rejected, fleet.withdrawn):
        _is_problem(client.get(f"/api/v1/cameras/{camera.id}", headers=admin), 404)
        geo = {**admin, "Accept": "application/geo+json"}
        _is_problem(client.get(f"/api/v1/cameras/{camera.id}", headers=geo), 404)
        r = client.get(f"/api/v1/cameras/{camera.id}", headers=biz)
        assert r.status_code == 200 and r.json()["status"] == "decommissioned"
    assert client.get(f"/api/v1/cameras/{fleet.submitted.id}", headers=admin).status_code == 200


@pytest.mark.parametrize("collection", ["cameras", "camera-fov"])
def test_ogc_collections_leave_out_cameras_off_the_map(
    client: TestClient, admin: Headers, biz: Headers, fleet: Fleet, collection: str
) -> None:
    url = f"/ogc/collections/{collection}/items"
    r = client.get(url, headers=admin, params={"limit": 100})
    assert r.status_code == 200, r.text
    assert {f["id"] for f in r.json()["features"]} == fleet.shown
    assert r.json()["numberMatched"] == len(fleet.shown)
    for camera in (fleet.rejected, fleet.withdrawn):
        assert client.get(f"{url}/{camera.id}", headers=admin).status_code == 404
        assert client.get(f"{url}/{camera.id}", headers=biz).status_code == 200
    own = client.get(url, headers=biz, params={"limit": 100}).json()
    assert {f["id"] for f in own["features"]} >= fleet.hidden


# --- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR, Role.PLANNER])
def test_enrolled_cameras_addresses_are_shown_to_their_owner_only(
    client: TestClient, auth: Callable[..., Headers], biz: Headers, fleet: Fleet, role: Role
) -> None:
    headers = auth(role)
    for accept, key in (("application/json", None), ("application/geo+json", "properties")):
        h = {**headers, "Accept": accept}
        for camera in (fleet.live, fleet.registry_only, fleet.submitted):
            doc = client.get(f"/api/v1/cameras/{camera.id}", headers=h).json()
            doc = doc[key] if key else doc
            assert (doc["stream_uri"], doc["snapshot_uri"], doc["device_uri"]) == (None,) * 3
            assert doc["has_credentials"] is True
        city = client.get(f"/api/v1/cameras/{fleet.city.id}", headers=h).json()
        assert (city[key] if key else city)["stream_uri"] == CITY_STREAM
    page = client.get("/api/v1/cameras", headers=headers).json()["items"]
    assert {c["stream_uri"] for c in page} == {None, CITY_STREAM}
    own = client.get(f"/api/v1/cameras/{fleet.live.id}", headers=biz).json()
    assert own["stream_uri"] == SHOP_STREAM
    assert all(
        c["stream_uri"] == SHOP_STREAM
        for c in client.get("/api/v1/cameras", headers=biz).json()["items"]
    )


# --- probes ------------------------------------------------------------------------------------


def test_probe_needs_a_tier_that_allows_it(
    client: TestClient, operator: Headers, biz: Headers, fleet: Fleet, sent: list[list[str]]
) -> None:
    body = _is_problem(
        client.post(f"/api/v1/cameras/{fleet.registry_only.id}/probe", headers=operator), 403
    )
    assert "registry_only" in body["detail"] and "approved" in body["detail"]
    body = _is_problem(client.post(f"/api/v1/cameras/{fleet.withdrawn.id}/probe", headers=biz), 403)
    assert "withdrawn" in body["detail"]
    # Off the map, it does not exist for the operator.
    _is_problem(client.post(f"/api/v1/cameras/{fleet.withdrawn.id}/probe", headers=operator), 404)
    assert sent == []
    for camera in (fleet.on_request, fleet.submitted, fleet.live, fleet.city):
        r = client.post(f"/api/v1/cameras/{camera.id}/probe", headers=operator)
        assert r.status_code == 202, r.text
    assert len(sent) == 4


# --- changes after consent ended -------------------------------------------------------------


@pytest.mark.parametrize("which", ["rejected", "withdrawn"])
def test_a_camera_whose_consent_ended_is_not_changed(
    client: TestClient,
    session: Session,
    admin: Headers,
    biz: Headers,
    fleet: Fleet,
    which: str,
) -> None:
    camera: Camera = getattr(fleet, which)
    url = f"/api/v1/cameras/{camera.id}"
    body = _is_problem(client.patch(url, json={"name": "Reopened"}, headers=biz), 409)
    assert f"consent was {which}" in body["detail"] and "enrol it again" in body["detail"]
    _is_problem(client.patch(url, json={"name": "Reopened"}, headers=admin), 404)
    session.expire_all()
    fresh = session.get(Camera, camera.id)
    assert fresh is not None and fresh.name is None


def test_an_approved_camera_is_changed_by_its_owner_who_sees_its_addresses(
    client: TestClient, biz: Headers, fleet: Fleet
) -> None:
    r = client.patch(f"/api/v1/cameras/{fleet.live.id}", json={"name": "Door"}, headers=biz)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Door" and r.json()["stream_uri"] == SHOP_STREAM


def test_enrolled_cameras_stream_profiles_are_shown_to_their_owner_only(
    client: TestClient, admin: Headers, biz: Headers, fleet: Fleet, session: Session
) -> None:
    profile = {"token": "main", "role": "main", "uri": SHOP_STREAM, "codec": "H264"}
    for camera in (fleet.live, fleet.city):
        camera.streams = [profile]
        camera.capabilities = ["snapshot"]
    session.flush()
    for camera, shown in ((fleet.live, None), (fleet.city, [profile])):
        doc = client.get(f"/api/v1/cameras/{camera.id}", headers=admin).json()
        assert doc["capabilities"] == ["snapshot"]
        assert doc["streams"] == (None if shown is None else [profile])
    own = client.get(f"/api/v1/cameras/{fleet.live.id}", headers=biz).json()
    assert own["streams"] == [profile]
