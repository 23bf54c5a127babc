"""Hotlists and alerts: entries through the API, reads matched exactly or within OCR
confusions, white lists suppressing alerts and exempting reads, expired entries never
matching, alerts listed and acknowledged."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.hotlists import service
from hub.plates import store
from hub.plates.models import PlateReadRow
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.analytics import PlateRead
from schemas.camera import CameraCreate
from schemas.enums import Role
from schemas.hotlists import AlertOut, AlertPage, HotlistEntryCreate, HotlistEntryOut

Headers = dict[str, str]
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    data = CameraCreate.model_validate(
        {"location": {"type": "Point", "coordinates": [127.0, 37.5]}}
    )
    return create_camera(session, box, data, org.id)


def _entry(client: TestClient, headers: Headers, plate: str, category: str, **extra: Any) -> Any:
    body = {
        "plate": plate,
        "category": category,
        "reason": f"{category} vehicle",
        "legal_basis": "Road Traffic Act s.12",
        "source": "test",
        **extra,
    }
    r = client.post("/api/v1/hotlists/entries", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return HotlistEntryOut.model_validate(r.json())


def _read(camera: Camera, plate: str) -> PlateRead:
    """A read made now: after the entries the test created (an entry is valid from its
    creation unless it says otherwise)."""
    return PlateRead(
        id=uuid.uuid4(),
        camera_id=camera.id,
        read_at=datetime.now(UTC),
        plate=plate,
        confidence=0.93,
        evidence=f"crops/{plate}.jpg",
    )


def test_entries_are_created_listed_read_and_deleted(client: TestClient, admin: Headers) -> None:
    entry = _entry(client, admin, "12AB34", "stolen", priority=1, tolerance="confusable")
    assert (entry.kind, entry.priority, entry.valid_until) == ("black", 1, None)
    page = client.get("/api/v1/hotlists/entries", headers=admin, params={"plate": "I2A834"})
    assert [e["id"] for e in page.json()["items"]] == [str(entry.id)]
    assert client.get(f"/api/v1/hotlists/entries/{entry.id}", headers=admin).status_code == 200
    assert client.delete(f"/api/v1/hotlists/entries/{entry.id}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/hotlists/entries/{entry.id}", headers=admin).status_code == 404


def test_bad_entries_are_refused(client: TestClient, admin: Headers) -> None:
    base = {"plate": "12AB34", "category": "stolen", "reason": "r", "legal_basis": "l"}
    for body in (
        {**base, "source": "s", "priority": 6},
        {**base, "source": "s", "plate": "12-ab"},
        {**base, "source": "s", "valid_from": "2026-11-21T00:00:00Z",
         "valid_until": "2026-11-20T00:00:00Z"},
        base,
    ):  # fmt: skip
        r = client.post("/api/v1/hotlists/entries", headers=admin, json=body)
        assert r.status_code == 422, body


def test_planners_and_businesses_cannot_touch_hotlists(
    client: TestClient, auth: Callable[..., Headers], org: Organization
) -> None:
    for headers in (auth(Role.PLANNER), auth(Role.BUSINESS, org)):
        assert client.get("/api/v1/hotlists/entries", headers=headers).status_code == 403
        assert client.get("/api/v1/alerts", headers=headers).status_code == 403


def test_exact_match_raises_an_alert_with_the_evidence(
    client: TestClient, session: Session, admin: Headers, camera: Camera
) -> None:
    entry = _entry(client, admin, "12AB34", "wanted", priority=1)
    read = _read(camera, "12AB34")
    outcome = store.store_read(session, read)
    assert [a.entry_id for a in outcome.alerts] == [entry.id]
    assert not outcome.exempt
    page = AlertPage.model_validate(client.get("/api/v1/alerts", headers=admin).json())
    alert = page.items[0]
    assert (alert.plate, alert.read_id, alert.camera_id) == ("12AB34", read.id, camera.id)
    assert (alert.evidence, alert.category, alert.priority) == ("crops/12AB34.jpg", "wanted", 1)
    assert alert.state == "open"
    assert not store.store_read(session, read).alerts  # a redelivery raises nothing new


def test_exact_entry_ignores_confusable_reads_but_confusable_entry_matches(
    client: TestClient, session: Session, admin: Headers, camera: Camera
) -> None:
    _entry(client, admin, "12AB34", "stolen")
    assert store.store_read(session, _read(camera, "I2A834")).alerts == []
    fuzzy = _entry(client, admin, "77SO77", "watched", tolerance="confusable")
    hits = store.store_read(session, _read(camera, "775077")).alerts
    assert [a.entry_id for a in hits] == [fuzzy.id]
    assert hits[0].entry_plate == "77SO77"


def test_white_list_suppresses_alerts_and_exempts_the_read(
    client: TestClient, session: Session, admin: Headers, camera: Camera
) -> None:
    _entry(client, admin, "AMB119", "stolen")
    _entry(client, admin, "AMB119", "emergency")
    read = _read(camera, "AMB119")
    outcome = store.store_read(session, read)
    assert outcome.alerts == []
    assert outcome.exempt
    row = session.scalar(select(PlateReadRow).where(PlateReadRow.id == read.id))
    assert row is not None and row.enforcement_exempt
    found = client.get("/api/v1/plates/reads", headers=admin, params={"plate": "AMB119"}).json()
    assert found["items"][0]["enforcement_exempt"] is True


def test_an_expired_or_not_yet_valid_entry_never_matches(
    client: TestClient, session: Session, admin: Headers, camera: Camera
) -> None:
    _entry(
        client, admin, "OLD111", "stolen",
        valid_from=(NOW - timedelta(days=10)).isoformat(),
        valid_until=(NOW - timedelta(days=1)).isoformat(),
    )  # fmt: skip
    _entry(client, admin, "NEW222", "stolen", valid_from=(NOW + timedelta(days=1)).isoformat())
    assert store.store_read(session, _read(camera, "OLD111")).alerts == []
    assert store.store_read(session, _read(camera, "NEW222")).alerts == []
    # a read from before the entry expired still matches it
    assert service.match(session, "OLD111", NOW - timedelta(days=2))


def test_alerts_are_acknowledged_once_and_filtered_by_state(
    client: TestClient,
    session: Session,
    admin: Headers,
    auth: Callable[..., Headers],
    camera: Camera,
) -> None:
    _entry(client, admin, "12AB34", "wanted")
    alert = store.store_read(session, _read(camera, "12AB34")).alerts[0]
    url = f"/api/v1/alerts/{alert.id}/acknowledge"
    first = client.post(url, headers=auth(Role.OPERATOR))
    assert first.status_code == 200, first.text
    acked = AlertOut.model_validate(first.json())
    assert acked.state == "acknowledged" and acked.acknowledged_at is not None
    again = AlertOut.model_validate(client.post(url, headers=admin).json())
    assert again.acknowledged_at == acked.acknowledged_at
    open_page = client.get("/api/v1/alerts", headers=admin, params={"state": "open"}).json()
    assert open_page["items"] == []
    missing = client.post(f"/api/v1/alerts/{uuid.uuid4()}/acknowledge", headers=admin)
    assert missing.status_code == 404


def test_deleting_an_entry_keeps_its_alerts(
    client: TestClient, session: Session, admin: Headers, camera: Camera
) -> None:
    entry = _entry(client, admin, "12AB34", "wanted")
    store.store_read(session, _read(camera, "12AB34"))
    client.delete(f"/api/v1/hotlists/entries/{entry.id}", headers=admin)
    items = client.get("/api/v1/alerts", headers=admin).json()["items"]
    assert [(a["entry_id"], a["entry_plate"]) for a in items] == [(None, "12AB34")]


def test_service_entry_create_defaults_valid_from_to_now(session: Session) -> None:
    row = service.create_entry(
        session,
        HotlistEntryCreate(
            plate="12AB34", category="stolen", reason="r", legal_basis="l", source="s"
        ),
    )
    assert abs((row.valid_from - datetime.now(UTC)).total_seconds()) < 60
