"""Per-camera analytics settings through the API: defaults, a full configuration, unusable
zones and lines refused by name, and enabling refused without a stream or without consent; the
missing-object reference asked for and read."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.analytics.service import enabled_cameras
from hub.enrolment.models import Enrolment
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enrolment import ConsentTier, EnrolmentState
from schemas.enums import OrganizationKind, Role

Headers = dict[str, str]
SHOP = [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9], [0.1, 0.9]]
CONFIG: dict[str, Any] = {
    "enabled": True,
    "fps": 4.0,
    "classes": ["person", "car"],
    "zones": [{"id": "door", "polygon": SHOP, "dwell_s": 30.0, "max_count": 5}],
    "lines": [{"id": "kerb", "start": [0.0, 0.8], "end": [1.0, 0.8], "forward_name": "in"}],
    "plates": True,
    "vehicle_attributes": True,
    "plate_region": "bg",
}


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Callable[..., Camera]:
    def make(owner: Organization = org, **fields: object) -> Camera:
        data = {
            "location": {"type": "Point", "coordinates": [127.05, 37.5]},
            "adapter": "rtsp",
            "stream_uri": "rtsp://127.0.0.1:8554/clean",
            **fields,
        }
        made = create_camera(session, box, CameraCreate.model_validate(data), owner.id)
        session.flush()
        return made

    return make


def test_a_camera_never_configured_has_analytics_off(
    client: TestClient, admin: Headers, camera: Callable[..., Camera]
) -> None:
    body = client.get(f"/api/v1/cameras/{camera().id}/analytics", headers=admin).json()
    assert body["enabled"] is False and body["backend"] == "onnx" and body["zones"] == []


def test_operators_configure_zones_lines_plates_and_it_is_kept(
    client: TestClient,
    admin: Headers,
    camera: Callable[..., Camera],
    session: Session,
) -> None:
    cam = camera()
    url = f"/api/v1/cameras/{cam.id}/analytics"
    response = client.put(url, json=CONFIG, headers=admin)
    assert response.status_code == 200, response.text
    body = client.get(url, headers=admin).json()
    assert body["zones"][0]["id"] == "door" and body["lines"][0]["forward_name"] == "in"
    assert body["plates"] is True and body["plate_region"] == "bg" and body["fps"] == 4.0
    assert enabled_cameras(session) == [cam.id]
    client.put(url, json={**CONFIG, "enabled": False}, headers=admin)
    assert enabled_cameras(session) == []


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"zones": [{"id": "bow", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}]}, "bow"),
        ({"zones": [{"id": "flat", "polygon": [[0, 0], [0.5, 0.5], [1, 1]]}]}, "flat"),
        ({"zones": [{"id": "out", "polygon": [[0, 0], [1.5, 0], [1, 1]]}]}, "polygon"),
        ({"lines": [{"id": "dot", "start": [0.5, 0.5], "end": [0.5, 0.5]}]}, "two different"),
        ({"zones": [CONFIG["zones"][0], CONFIG["zones"][0]]}, "unique"),
        ({"fps": 0}, "fps"),
        ({"fps": "2"}, "fps"),
        ({"classes": ["dragon"]}, "classes"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_unusable_settings_are_refused_by_name_and_nothing_changes(
    client: TestClient,
    admin: Headers,
    camera: Callable[..., Camera],
    change: dict[str, Any],
    names: str,
) -> None:
    cam = camera()
    url = f"/api/v1/cameras/{cam.id}/analytics"
    response = client.put(url, json={**CONFIG, **change}, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert names in response.text
    assert client.get(url, headers=admin).json()["enabled"] is False


def test_enabling_a_camera_without_a_stream_is_a_conflict(
    client: TestClient, admin: Headers, camera: Callable[..., Camera]
) -> None:
    cam = camera(adapter="none", stream_uri=None)
    response = client.put(f"/api/v1/cameras/{cam.id}/analytics", json=CONFIG, headers=admin)
    assert response.status_code == 409 and "stream" in response.json()["detail"]


@pytest.mark.parametrize(
    ("tier", "allowed"),
    [
        (ConsentTier.LIVE_ALWAYS, True),
        (ConsentTier.LIVE_ON_ALARM, False),
        (ConsentTier.ON_REQUEST, False),
    ],
)
def test_private_cameras_are_analysed_only_with_standing_live_consent(
    client: TestClient,
    admin: Headers,
    camera: Callable[..., Camera],
    make_org: Callable[..., Organization],
    session: Session,
    tier: ConsentTier,
    allowed: bool,
) -> None:
    shop = make_org(slug="bakery", kind=OrganizationKind.PRIVATE_BUSINESS)
    cam = camera(owner=shop)
    session.add(
        Enrolment(
            camera_id=cam.id, org_id=shop.id, state=EnrolmentState.APPROVED, consent_tier=tier
        )
    )
    session.flush()
    response = client.put(f"/api/v1/cameras/{cam.id}/analytics", json=CONFIG, headers=admin)
    assert (response.status_code == 200) is allowed, response.text
    if not allowed:
        assert response.status_code == 409 and tier.value in response.json()["detail"]


def test_consent_withdrawn_after_enabling_stops_the_analysis(
    client: TestClient,
    admin: Headers,
    camera: Callable[..., Camera],
    make_org: Callable[..., Organization],
    session: Session,
) -> None:
    shop = make_org(slug="garage", kind=OrganizationKind.PRIVATE_BUSINESS)
    cam = camera(owner=shop)
    enrolment = Enrolment(
        camera_id=cam.id,
        org_id=shop.id,
        state=EnrolmentState.APPROVED,
        consent_tier=ConsentTier.LIVE_ALWAYS,
    )
    session.add(enrolment)
    session.flush()
    client.put(f"/api/v1/cameras/{cam.id}/analytics", json=CONFIG, headers=admin)
    assert enabled_cameras(session) == [cam.id]
    enrolment.state = EnrolmentState.WITHDRAWN
    session.flush()
    assert enabled_cameras(session) == []


def test_planners_read_but_do_not_configure(
    client: TestClient, auth: Callable[..., Headers], camera: Callable[..., Camera]
) -> None:
    cam = camera()
    planner = auth(Role.PLANNER)
    url = f"/api/v1/cameras/{cam.id}/analytics"
    assert client.get(url, headers=planner).status_code == 200
    assert client.put(url, json=CONFIG, headers=planner).status_code == 403


# --- the missing-object reference ---------------------------------------------------------------

WATCHED = {
    **CONFIG,
    "zones": [{"id": "bench", "polygon": SHOP, "missing_after_s": 60.0}],
}


def refused(client: TestClient, method: str, url: str, headers: Headers | None = None) -> int:
    """The status of a request answered with a problem (problem+json)."""
    response = client.request(method, url, headers=headers)
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code


def test_a_camera_never_asked_has_no_reference(
    client: TestClient, admin: Headers, camera: Callable[..., Camera]
) -> None:
    response = client.get(f"/api/v1/cameras/{camera().id}/analytics/reference", headers=admin)
    assert response.status_code == 200
    assert response.json() == {"pending": False, "requested_at": None, "references": []}


def test_operators_arm_a_reference_and_it_is_pending_until_taken(
    client: TestClient, auth: Callable[..., Headers], camera: Callable[..., Camera]
) -> None:
    cam, operator = camera(), auth(Role.OPERATOR)
    client.put(f"/api/v1/cameras/{cam.id}/analytics", json=WATCHED, headers=operator)
    url = f"/api/v1/cameras/{cam.id}/analytics/reference"
    before = datetime.now(UTC)
    response = client.post(url, headers=operator)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["pending"] is True and body["references"] == []
    requested = datetime.fromisoformat(body["requested_at"])
    assert before <= requested <= datetime.now(UTC)
    assert client.get(url, headers=auth(Role.PLANNER)).json() == body
    again = client.post(url, headers=operator).json()  # asking again moves the request on
    assert datetime.fromisoformat(again["requested_at"]) >= requested


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({**WATCHED, "enabled": False}, "not enabled"),
        (CONFIG, "missing_after_s"),  # its zone watches dwell and crowding only
    ],
    ids=["disabled", "no-missing-zone"],
)
def test_a_reference_is_a_conflict_where_missing_objects_are_not_watched(
    client: TestClient,
    admin: Headers,
    camera: Callable[..., Camera],
    config: dict[str, Any],
    says: str,
) -> None:
    cam = camera()
    client.put(f"/api/v1/cameras/{cam.id}/analytics", json=config, headers=admin)
    url = f"/api/v1/cameras/{cam.id}/analytics/reference"
    assert refused(client, "POST", url, admin) == 409
    assert says in client.post(url, headers=admin).json()["detail"]
    assert client.get(url, headers=admin).json()["pending"] is False


def test_a_camera_never_configured_has_no_reference_to_take(
    client: TestClient, admin: Headers, camera: Callable[..., Camera]
) -> None:
    url = f"/api/v1/cameras/{camera().id}/analytics/reference"
    assert refused(client, "POST", url, admin) == 409


def test_references_of_unknown_or_invisible_cameras_are_not_found(
    client: TestClient,
    admin: Headers,
    auth: Callable[..., Headers],
    camera: Callable[..., Camera],
    make_org: Callable[..., Organization],
) -> None:
    cam = camera()
    client.put(f"/api/v1/cameras/{cam.id}/analytics", json=WATCHED, headers=admin)
    stranger = auth(Role.BUSINESS, make_org(slug="kiosk", kind=OrganizationKind.PRIVATE_BUSINESS))
    for camera_id, headers in ((uuid.uuid4(), admin), (cam.id, stranger)):
        url = f"/api/v1/cameras/{camera_id}/analytics/reference"
        assert refused(client, "POST", url, headers) == 404
        assert refused(client, "GET", url, headers) == 404
    url = f"/api/v1/cameras/{cam.id}/analytics/reference"
    assert client.get(url, headers=admin).json()["pending"] is False


def test_references_need_a_token_and_planners_only_read_them(
    client: TestClient,
    admin: Headers,
    auth: Callable[..., Headers],
    camera: Callable[..., Camera],
) -> None:
    cam = camera()
    client.put(f"/api/v1/cameras/{cam.id}/analytics", json=WATCHED, headers=admin)
    url = f"/api/v1/cameras/{cam.id}/analytics/reference"
    assert refused(client, "POST", url) == 401
    assert refused(client, "GET", url) == 401
    planner = auth(Role.PLANNER)
    assert refused(client, "POST", url, planner) == 403
    assert client.get(url, headers=planner).json()["pending"] is False
