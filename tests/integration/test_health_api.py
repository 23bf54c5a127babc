"""The health API: a camera's health and history, its check settings and baseline, and the state
of its neighbours (several lost around one spot at once: a suspected attack)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.enrolment.models import Enrolment
from hub.health.models import CameraHealth, HealthEvent
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enrolment import ConsentTier, EnrolmentState
from schemas.enums import CameraStatus, OrganizationKind, Role

Headers = dict[str, str]
NOW = datetime.now(UTC)
# 0.001 degree of longitude at 37.5 N is about 88 m.
METRES_PER_MILLIDEGREE = 88.2


@pytest.fixture
def place(session: Session, box: CredentialBox, org: Organization) -> Callable[..., Camera]:
    """A camera `east_m` metres east of the spot, its confirmed status set `ago_s` seconds ago."""

    def make(
        east_m: float,
        status: CameraStatus = CameraStatus.ONLINE,
        ago_s: float = 3600,
        owner: Organization = org,
    ) -> Camera:
        camera = create_camera(
            session,
            box,
            CameraCreate.model_validate(
                {
                    "location": {
                        "type": "Point",
                        "coordinates": [127.05 + east_m / METRES_PER_MILLIDEGREE / 1000, 37.5],
                    },
                    "adapter": "rtsp",
                    "stream_uri": "rtsp://127.0.0.1:8554/clean",
                    "status": status.value,
                }
            ),
            owner.id,
        )
        session.add(
            CameraHealth(
                camera_id=camera.id,
                interval_s=60,
                next_check_at=NOW,
                status=status,
                # The API compares with the clock at request time: a module-level NOW would be
                # minutes old by the time this runs in the whole suite.
                since=datetime.now(UTC) - timedelta(seconds=ago_s),
                candidate_checks=0,
                enabled=True,
            )
        )
        session.flush()
        return camera

    return make


def test_a_camera_never_checked_reports_its_registry_status(
    client: TestClient, admin: Headers, place: Callable[..., Camera], session: Session
) -> None:
    camera = place(0)
    session.delete(session.get_one(CameraHealth, camera.id))
    session.flush()
    body = client.get(f"/api/v1/cameras/{camera.id}/health", headers=admin).json()
    assert body["status"] == "online" and body["since"] is None
    assert body["depth"] == "decode" and body["interval_s"] == 60
    assert body["last_check"] is None and body["history"] == [] and body["pending"] is None
    assert body["baseline_set"] is False


def test_health_shows_the_last_check_the_pending_change_and_the_history(
    client: TestClient, admin: Headers, place: Callable[..., Camera], session: Session
) -> None:
    camera = place(0)
    health = session.get_one(CameraHealth, camera.id)
    health.candidate, health.candidate_since, health.candidate_checks = (
        CameraStatus.OFFLINE,
        NOW,
        1,
    )
    health.last_check = {
        "checked_at": NOW.isoformat(),
        "depth": "decode",
        "observed": "offline",
        "findings": ["unreachable"],
        "error_code": "connection_refused",
        "message": "RTSP rtsp://127.0.0.1:8554/clean: connection refused",
        "measures": None,
        "duration_ms": 12,
    }
    for minutes, (before, after) in enumerate(
        [(CameraStatus.UNKNOWN, CameraStatus.ONLINE), (CameraStatus.ONLINE, CameraStatus.TAMPERED)]
    ):
        session.add(
            HealthEvent(
                camera_id=camera.id,
                occurred_at=NOW - timedelta(minutes=10 - minutes),
                previous=before,
                status=after,
                findings=["dark"] if after is CameraStatus.TAMPERED else [],
            )
        )
    session.flush()
    body = client.get(f"/api/v1/cameras/{camera.id}/health?history=5", headers=admin).json()
    assert body["pending"] == {"status": "offline", "since": body["pending"]["since"], "checks": 1}
    assert body["last_check"]["error_code"] == "connection_refused"
    assert [(h["previous"], h["status"]) for h in body["history"]] == [
        ("online", "tampered"),
        ("unknown", "online"),
    ]
    assert body["history"][0]["findings"] == ["dark"]
    one = client.get(f"/api/v1/cameras/{camera.id}/health?history=1", headers=admin).json()
    assert len(one["history"]) == 1


def test_operators_set_the_interval_and_turn_checks_off(
    client: TestClient, admin: Headers, place: Callable[..., Camera], session: Session
) -> None:
    camera = place(0)
    url = f"/api/v1/cameras/{camera.id}/health"
    body = client.patch(url, json={"interval_s": 30}, headers=admin).json()
    assert body["interval_s"] == 30 and body["enabled"] is True
    body = client.patch(url, json={"enabled": False}, headers=admin).json()
    assert body["enabled"] is False and body["next_check_at"] is None
    assert session.get_one(CameraHealth, camera.id).interval_s == 30


@pytest.mark.parametrize(
    "payload",
    [{"interval_s": 5}, {"interval_s": "60"}, {"enabled": "no"}, {"colour": "red"}],
)
def test_bad_health_settings_are_refused_and_nothing_changes(
    client: TestClient,
    admin: Headers,
    place: Callable[..., Camera],
    session: Session,
    payload: dict[str, object],
) -> None:
    camera = place(0)
    response = client.patch(f"/api/v1/cameras/{camera.id}/health", json=payload, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    session.expire_all()
    assert session.get_one(CameraHealth, camera.id).interval_s == 60


def test_resetting_the_baseline_forgets_it_and_checks_at_once(
    client: TestClient, admin: Headers, place: Callable[..., Camera], session: Session
) -> None:
    camera = place(0)
    health = session.get_one(CameraHealth, camera.id)
    health.baseline_sharpness, health.reference_signature = 120.0, b"\0" * 2304
    health.next_check_at = NOW + timedelta(hours=1)
    session.flush()
    assert client.get(f"/api/v1/cameras/{camera.id}/health", headers=admin).json()["baseline_set"]
    body = client.post(f"/api/v1/cameras/{camera.id}/health/baseline", headers=admin).json()
    assert body["baseline_set"] is False
    session.expire_all()
    assert session.get_one(CameraHealth, camera.id).next_check_at <= datetime.now(UTC)


def test_planners_read_health_but_cannot_change_it(
    client: TestClient, auth: Callable[..., Headers], place: Callable[..., Camera]
) -> None:
    camera = place(0)
    planner = auth(Role.PLANNER)
    assert client.get(f"/api/v1/cameras/{camera.id}/health", headers=planner).status_code == 200
    response = client.patch(
        f"/api/v1/cameras/{camera.id}/health", json={"enabled": False}, headers=planner
    )
    assert response.status_code == 403


def test_unknown_cameras_are_404(client: TestClient, admin: Headers) -> None:
    for path in ("health", "neighbours"):
        response = client.get(f"/api/v1/cameras/{uuid.uuid4()}/{path}", headers=admin)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_neighbours_are_listed_nearest_first_with_their_state(
    client: TestClient, admin: Headers, place: Callable[..., Camera]
) -> None:
    spot = place(0)
    near = place(50, CameraStatus.OFFLINE, ago_s=120)
    farther = place(150, CameraStatus.TAMPERED, ago_s=7200)
    place(400)  # outside 200 m
    body = client.get(f"/api/v1/cameras/{spot.id}/neighbours?radius_m=200", headers=admin).json()
    assert [n["camera_id"] for n in body["neighbours"]] == [str(near.id), str(farther.id)]
    assert body["neighbours"][0]["distance_m"] == pytest.approx(50, abs=2)
    assert body["neighbours"][0]["status"] == "offline"
    assert body["counts"] == {"online": 1, "offline": 1, "tampered": 1}
    assert body["lost_recently"] == 1  # the tampered one was lost two hours ago
    assert body["suspected_attack"] is False


def test_several_cameras_lost_around_one_spot_at_once_suggest_an_attack(
    client: TestClient, admin: Headers, place: Callable[..., Camera]
) -> None:
    spot = place(0, CameraStatus.TAMPERED, ago_s=60)
    place(40, CameraStatus.OFFLINE, ago_s=90)
    place(80, CameraStatus.TAMPERED, ago_s=30)
    url = f"/api/v1/cameras/{spot.id}/neighbours?radius_m=100&window_s=600"
    body = client.get(url, headers=admin).json()
    assert body["lost_recently"] == 3 and body["suspected_attack"] is True
    assert client.get(url + "&threshold=4", headers=admin).json()["suspected_attack"] is False


@pytest.mark.parametrize("query", ["radius_m=0", "radius_m=5001", "radius_m=x", "window_s=10"])
def test_bad_neighbour_queries_get_a_problem(
    client: TestClient, admin: Headers, place: Callable[..., Camera], query: str
) -> None:
    spot = place(0)
    response = client.get(f"/api/v1/cameras/{spot.id}/neighbours?{query}", headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_business_sees_only_its_own_cameras_around(
    client: TestClient,
    auth: Callable[..., Headers],
    place: Callable[..., Camera],
    make_org: Callable[..., Organization],
) -> None:
    shop = make_org(slug="corner-shop", kind=OrganizationKind.PRIVATE_BUSINESS)
    own = place(0, owner=shop)
    other_own = place(30, owner=shop)
    public = place(10)
    business = auth(Role.BUSINESS, shop)
    body = client.get(f"/api/v1/cameras/{own.id}/neighbours", headers=business).json()
    assert [n["camera_id"] for n in body["neighbours"]] == [str(other_own.id)]
    assert client.get(f"/api/v1/cameras/{public.id}/health", headers=business).status_code == 404


def test_cameras_whose_consent_ended_are_hidden_from_health_and_neighbours(
    client: TestClient,
    admin: Headers,
    auth: Callable[..., Headers],
    place: Callable[..., Camera],
    make_org: Callable[..., Organization],
    session: Session,
) -> None:
    shop = make_org(slug="kiosk", kind=OrganizationKind.PRIVATE_BUSINESS)
    spot = place(0)
    withdrawn = place(20, owner=shop)  # status left online: only consent hides it
    session.add(
        Enrolment(
            camera_id=withdrawn.id,
            org_id=shop.id,
            state=EnrolmentState.WITHDRAWN,
            consent_tier=ConsentTier.LIVE_ALWAYS,
        )
    )
    session.flush()
    assert client.get(f"/api/v1/cameras/{withdrawn.id}/health", headers=admin).status_code == 404
    owner = auth(Role.BUSINESS, shop)
    assert client.get(f"/api/v1/cameras/{withdrawn.id}/health", headers=owner).status_code == 200
    body = client.get(f"/api/v1/cameras/{spot.id}/neighbours", headers=admin).json()
    assert str(withdrawn.id) not in {n["camera_id"] for n in body["neighbours"]}
