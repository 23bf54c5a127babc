"""GET /api/v1/cameras/{id}/events: newest first, filters, cursor pages, scoping; and the store
underneath it (a redelivered event id is stored once; a deleted camera takes its events)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.events import service
from hub.events.models import CameraEventRow
from hub.registry.cameras import create_camera, delete_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enums import OrganizationKind, Role
from schemas.events import CameraEventPage, EventKind, NormalizedEvent

Headers = dict[str, str]
T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
RAW = "<wsnt:NotificationMessage>…</wsnt:NotificationMessage>"


def _camera(session: Session, box: CredentialBox, owner: Organization) -> Camera:
    data = CameraCreate.model_validate(
        {
            "location": {"type": "Point", "coordinates": [127.05, 37.5]},
            "adapter": "onvif",
            "stream_uri": "http://192.0.2.10/onvif/device_service",
        }
    )
    return create_camera(session, box, data, owner.id)


def _event(camera: Camera, minute: int, kind: EventKind = EventKind.MOTION) -> NormalizedEvent:
    return NormalizedEvent(
        camera_id=camera.id,
        kind=kind,
        occurred_at=T0 + timedelta(minutes=minute),
        active=None if kind is EventKind.UNKNOWN else True,
        source="onvif",
        topic="tns1:Device/Trigger/DigitalInput"
        if kind is EventKind.UNKNOWN
        else "tns1:RuleEngine/CellMotionDetector/Motion",
        subject={"VideoSourceConfigurationToken": "000"},
        data={"IsMotion": True, "Level": 3},
        raw=RAW if kind is EventKind.UNKNOWN else None,
    )


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    return _camera(session, box, org)


@pytest.fixture
def stored(session: Session, camera: Camera) -> list[NormalizedEvent]:
    """Ten events a minute apart; every third is of an unknown topic."""
    events = [
        _event(camera, m, EventKind.UNKNOWN if m % 3 == 0 else EventKind.MOTION) for m in range(10)
    ]
    assert len(service.store_events(session, events)) == 10
    return events


def _get(client: TestClient, camera: Camera, headers: Headers, **params: Any) -> Any:
    r = client.get(f"/api/v1/cameras/{camera.id}/events", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return CameraEventPage.model_validate(r.json())


def test_events_come_newest_first_with_their_fields(
    client: TestClient, admin: Headers, camera: Camera, stored: list[NormalizedEvent]
) -> None:
    page = _get(client, camera, admin)

    assert [e.id for e in page.items] == [e.id for e in reversed(stored)]
    assert page.next_cursor is None
    motion = page.items[1]  # minute 8 (minute 9 is of an unknown topic)
    assert motion.camera_id == camera.id and motion.kind is EventKind.MOTION
    assert motion.occurred_at == T0 + timedelta(minutes=8)
    assert motion.active is True and motion.raw is None
    assert motion.data == {"IsMotion": True, "Level": 3}
    assert motion.subject == {"VideoSourceConfigurationToken": "000"}
    assert motion.received_at.tzinfo is not None
    unknown = [e for e in page.items if e.kind is EventKind.UNKNOWN]
    assert len(unknown) == 4 and all(e.raw == RAW for e in unknown)


def test_kind_since_and_until_filter(
    client: TestClient, admin: Headers, camera: Camera, stored: list[NormalizedEvent]
) -> None:
    unknown = _get(client, camera, admin, kind="unknown")
    window = _get(
        client,
        camera,
        admin,
        since=(T0 + timedelta(minutes=2)).isoformat(),
        until=(T0 + timedelta(minutes=5)).isoformat(),
    )

    assert [e.occurred_at.minute for e in unknown.items] == [9, 6, 3, 0]
    assert [e.occurred_at.minute for e in window.items] == [4, 3, 2]  # since in, until out


def test_cursor_pages_cover_every_event_once(
    client: TestClient,
    admin: Headers,
    session: Session,
    camera: Camera,
    stored: list[NormalizedEvent],
) -> None:
    # Two more at an instant already taken: the id breaks the tie, nothing is skipped.
    twins = [_event(camera, 5), _event(camera, 5)]
    service.store_events(session, twins)
    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(10):
        page = _get(client, camera, admin, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [e.id for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert len(seen) == 12 and set(seen) == {e.id for e in stored + twins}


def test_a_redelivered_event_is_stored_once(session: Session, camera: Camera) -> None:
    event = _event(camera, 1)

    first = service.store_events(session, [event])
    again = service.store_events(session, [event, _event(camera, 2)])

    assert first == [event.id]
    assert len(again) == 1 and again[0] != event.id
    count = session.scalar(select(func.count()).where(CameraEventRow.id == event.id))
    assert count == 1


def test_events_of_a_deleted_camera_are_dropped_and_deleted(
    session: Session, camera: Camera, stored: list[NormalizedEvent]
) -> None:
    delete_camera(session, camera)

    assert service.store_events(session, [_event(camera, 20)]) == []
    assert session.scalar(select(func.count()).select_from(CameraEventRow)) == 0


def test_business_tokens_see_only_their_cameras_events(
    client: TestClient,
    auth: Callable[..., Headers],
    make_org: Callable[..., Organization],
    session: Session,
    box: CredentialBox,
    org: Organization,
    camera: Camera,
    stored: list[NormalizedEvent],
) -> None:
    firm = make_org(slug="acme-security", kind=OrganizationKind.PRIVATE_BUSINESS)
    own = _camera(session, box, firm)
    service.store_events(session, [_event(own, 1)])
    business = auth(Role.BUSINESS, firm)

    other = client.get(f"/api/v1/cameras/{camera.id}/events", headers=business)
    mine = _get(client, own, business)

    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert [e.camera_id for e in mine.items] == [own.id]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "f" * 32}, "cursor"),  # well shaped, but not one the API issued
        ({"since": "2026-11-21T05:00:00"}, "since"),
        ({"kind": "explosion"}, "kind"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_parameters_are_422_problems(
    client: TestClient, admin: Headers, camera: Camera, params: dict[str, str], name: str
) -> None:
    r = client.get(f"/api/v1/cameras/{camera.id}/events", headers=admin, params=params)

    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert name in {p["name"] for p in r.json()["invalid_params"]}


def test_unknown_camera_is_404_and_no_token_is_401(client: TestClient, admin: Headers) -> None:
    missing = client.get(f"/api/v1/cameras/{uuid.uuid4()}/events", headers=admin)
    anonymous = client.get(f"/api/v1/cameras/{uuid.uuid4()}/events")

    assert missing.status_code == 404
    assert anonymous.status_code == 401
