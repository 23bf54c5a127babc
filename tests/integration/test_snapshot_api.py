"""GET /cameras/{id}/snapshot: a JPEG taken now through the camera's adapter, from a real
GStreamer RTSP server and a real ONVIF device (ipycam); refused by consent tier, by role and
by scope; camera failures as problem+json with the adapter's code; no password anywhere."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.enrolment import service
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.camera import CameraCreate
from schemas.enrolment import Approve, EnrolmentCreate
from schemas.enums import OrganizationKind, Role
from tests.conftest import TEST_KEY
from tests.fixtures.onvif_servers import Ipycam, closed_port, ipycam_camera, silent_server
from tests.fixtures.rtsp_server import rtsp_base_url, rtsp_private_url

__all__ = ["rtsp_base_url", "rtsp_private_url"]  # the fixtures, used by name below

Headers = dict[str, str]
PASSWORD = "Sn4p:sh0t@secret/x"
ONVIF_USER = "operator"
TIMEOUT_S = 3.0
JPEG_START = b"\xff\xd8"
REVIEWER = uuid.uuid4()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The node's settings with a short camera timeout, so a silent camera ends quickly."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=TEST_KEY,
        probe_timeout_s=TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def ipycam() -> Iterator[Ipycam]:
    with ipycam_camera(ONVIF_USER, PASSWORD) as running:
        yield running


@pytest.fixture
def shop(make_org: Callable[..., Organization]) -> Organization:
    return make_org("corner-shop", kind=OrganizationKind.PRIVATE_BUSINESS)


def _city_camera(
    session: Session, box: CredentialBox, owner: Organization, **fields: Any
) -> Camera:
    data = CameraCreate.model_validate(
        {"location": {"type": "Point", "coordinates": [127.03, 37.51]}, **fields}
    )
    camera = create_camera(session, box, data, owner.id)
    session.commit()
    return camera


def _enrolled(
    session: Session, box: CredentialBox, shop: Organization, stream: str, tier: str, state: str
) -> uuid.UUID:
    data = EnrolmentCreate.model_validate(
        {
            "location": {"type": "Point", "coordinates": [127.03, 37.51]},
            "adapter": "rtsp",
            "stream_uri": stream,
            "consent_tier": tier,
        }
    )
    enrolment, _ = service.enrol(session, box, shop.id, data)
    if state in ("approved", "withdrawn"):
        service.review(session, enrolment, Approve(decision="approve"), REVIEWER)
    if state == "withdrawn":
        service.withdraw(session, enrolment)
    session.commit()
    return enrolment.camera_id


def _snapshot(client: TestClient, camera_id: uuid.UUID, headers: Headers) -> Any:
    r = client.get(f"/api/v1/cameras/{camera_id}/snapshot", headers=headers)
    assert PASSWORD not in r.text and PASSWORD.encode() not in r.content
    return r


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


def _is_jpeg(r: Any) -> None:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    assert r.content.startswith(JPEG_START) and len(r.content) > 1000


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR])
def test_a_public_cameras_snapshot_is_a_jpeg_taken_now(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    org: Organization,
    auth: Callable[..., Headers],
    rtsp_base_url: str,
    role: Role,
) -> None:
    camera = _city_camera(session, box, org, adapter="rtsp", stream_uri=f"{rtsp_base_url}/clean")
    r = _snapshot(client, camera.id, auth(role))
    _is_jpeg(r)
    assert r.headers["cache-control"] == "no-store"


def test_an_onvif_camera_gives_its_snapshot_through_the_device_service(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    org: Organization,
    admin: Headers,
    ipycam: Ipycam,
) -> None:
    # Its stream is in stream_uri (ipycam serves no RTSP media); ONVIF goes to device_uri.
    camera = _city_camera(
        session,
        box,
        org,
        adapter="onvif",
        stream_uri=f"rtsp://127.0.0.1:{ipycam.rtsp_port}/video_main",
        device_uri=ipycam.device_url,
        credentials={"username": ONVIF_USER, "password": PASSWORD},
    )
    _is_jpeg(_snapshot(client, camera.id, admin))


@pytest.mark.parametrize(
    ("tier", "state", "says"),
    [
        ("live_on_alarm", "approved", "only during an alert near the camera, and none is active"),
        ("on_request", "approved", "footage on request only"),
        ("registry_only", "approved", "registry only"),
        ("live_always", "submitted", "awaits an operator's review"),
    ],
)
def test_consent_short_of_live_view_is_403_saying_why(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    shop: Organization,
    auth: Callable[..., Headers],
    rtsp_base_url: str,
    tier: str,
    state: str,
    says: str,
) -> None:
    camera_id = _enrolled(session, box, shop, f"{rtsp_base_url}/clean", tier, state)
    for headers in (auth(Role.OPERATOR), auth(Role.BUSINESS, shop)):
        body = _problem(_snapshot(client, camera_id, headers), 403)
        assert says in body["detail"] and tier in body["detail"] and state in body["detail"]


def test_live_always_approved_is_seen_by_operators_and_its_owner(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    shop: Organization,
    make_org: Callable[..., Organization],
    auth: Callable[..., Headers],
    rtsp_base_url: str,
) -> None:
    camera_id = _enrolled(session, box, shop, f"{rtsp_base_url}/clean", "live_always", "approved")
    _is_jpeg(_snapshot(client, camera_id, auth(Role.OPERATOR)))
    _is_jpeg(_snapshot(client, camera_id, auth(Role.BUSINESS, shop)))
    other = make_org("other-shop", kind=OrganizationKind.PRIVATE_BUSINESS)
    _problem(_snapshot(client, camera_id, auth(Role.BUSINESS, other)), 404)
    _problem(_snapshot(client, camera_id, auth(Role.PLANNER)), 403)


def test_a_withdrawn_camera_is_404_to_operators_and_403_to_its_owner(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    shop: Organization,
    auth: Callable[..., Headers],
    rtsp_base_url: str,
) -> None:
    camera_id = _enrolled(session, box, shop, f"{rtsp_base_url}/clean", "live_always", "withdrawn")
    _problem(_snapshot(client, camera_id, auth(Role.ADMIN)), 404)
    body = _problem(_snapshot(client, camera_id, auth(Role.BUSINESS, shop)), 403)
    assert "withdrawn" in body["detail"]


def test_planners_may_not_view_and_business_sees_only_its_own(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    org: Organization,
    shop: Organization,
    auth: Callable[..., Headers],
    rtsp_base_url: str,
) -> None:
    camera = _city_camera(session, box, org, adapter="rtsp", stream_uri=f"{rtsp_base_url}/clean")
    body = _problem(_snapshot(client, camera.id, auth(Role.PLANNER)), 403)
    assert "planner" in body["detail"]
    _problem(_snapshot(client, camera.id, auth(Role.BUSINESS, shop)), 404)
    _problem(client.get(f"/api/v1/cameras/{camera.id}/snapshot"), 401)
    _problem(_snapshot(client, uuid.uuid4(), auth(Role.ADMIN)), 404)


def test_a_closed_port_is_502_with_the_adapters_code_and_no_password(
    client: TestClient, session: Session, box: CredentialBox, org: Organization, admin: Headers
) -> None:
    port = closed_port()
    camera = _city_camera(
        session,
        box,
        org,
        adapter="rtsp",
        stream_uri=f"rtsp://127.0.0.1:{port}/live",
        credentials={"username": "viewer", "password": PASSWORD},
    )
    body = _problem(_snapshot(client, camera.id, admin), 502)
    assert body["type"].endswith("/connection_refused"), body
    assert body["detail"]


def test_a_silent_camera_is_504_within_the_timeout(
    client: TestClient, session: Session, box: CredentialBox, org: Organization, admin: Headers
) -> None:
    with silent_server() as port:
        camera = _city_camera(
            session,
            box,
            org,
            adapter="rtsp",
            stream_uri=f"rtsp://127.0.0.1:{port}/live",
            credentials={"username": "viewer", "password": PASSWORD},
        )
        body = _problem(_snapshot(client, camera.id, admin), 504)
    assert body["type"].endswith("/timeout"), body


def test_a_wrong_password_is_502_authentication_failed_without_it(
    client: TestClient,
    session: Session,
    box: CredentialBox,
    org: Organization,
    admin: Headers,
    rtsp_private_url: str,
) -> None:
    camera = _city_camera(
        session,
        box,
        org,
        adapter="rtsp",
        stream_uri=f"{rtsp_private_url}/clean",
        credentials={"username": "operator", "password": PASSWORD},
    )
    body = _problem(_snapshot(client, camera.id, admin), 502)
    assert body["type"].endswith("/authentication_failed"), body


def test_an_inventory_only_camera_has_nothing_to_show(
    client: TestClient, session: Session, box: CredentialBox, org: Organization, admin: Headers
) -> None:
    camera = _city_camera(session, box, org)
    body = _problem(_snapshot(client, camera.id, admin), 409)
    assert "adapter is none" in body["detail"]
