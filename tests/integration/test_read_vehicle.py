"""The plates queue's task on a real photo: the vehicle's crops are read with the real models,
the read is stored with its evidence and matched against the hotlists (an alert for a wanted
plate), announced as a `plate` event, and a redelivered message stores nothing twice."""

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.models import Alert
from hub.analytics.context import AnalyticsContext
from hub.analytics.evidence import EvidenceStore
from hub.analytics.models import CameraAnalytics
from hub.analytics.vehicles import run_read_vehicle
from hub.events.models import CameraEventRow
from hub.hotlists.service import create_entry
from hub.plates.models import PlateReadRow
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from hub.settings import get_settings
from schemas.camera import CameraCreate
from schemas.events import EventKind
from schemas.hotlists import HotlistEntryCreate
from tests.support import DATA

PHOTO = DATA / "alpr" / "eu" / "eu1.jpg"  # labelled M5XSX


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def camera(session: Session, box: CredentialBox, make_org: Callable[..., Organization]) -> Camera:
    data = {
        "location": {"type": "Point", "coordinates": [25.4, 42.6]},
        "adapter": "rtsp",
        "stream_uri": "rtsp://127.0.0.1:1/road",
    }
    made = create_camera(session, box, CameraCreate.model_validate(data), make_org().id)
    session.add(CameraAnalytics(camera_id=made.id, settings={"enabled": True, "plates": True}))
    session.commit()
    return made


def message(camera: Camera, seen: datetime) -> dict[str, Any]:
    crop = base64.b64encode(PHOTO.read_bytes()).decode()
    return {
        "camera_id": str(camera.id),
        "track_id": 12,
        "object_class": "car",
        "first_seen": seen.isoformat(),
        "last_seen": (seen + timedelta(seconds=3)).isoformat(),
        "direction": "forward",
        "colour": "white",
        "crops": [crop, crop],
    }


def context(sessions: sessionmaker[Session], box: CredentialBox, root: Path) -> AnalyticsContext:
    return AnalyticsContext(
        sessions=sessions,
        box=box,
        models_dir=get_settings().models_dir,
        data_dir=root,
        evidence=EvidenceStore(root / "evidence"),
    )


def test_a_vehicle_is_read_stored_matched_and_announced_once(
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    camera: Camera,
    tmp_path: Path,
) -> None:
    create_entry(
        session,
        HotlistEntryCreate(
            plate="M5XSX",
            category="stolen",
            reason="reported stolen",
            legal_basis="test",
            source="national",
            valid_from=datetime.now(UTC) - timedelta(days=1),
        ),
    )
    session.commit()
    seen = datetime.now(UTC).replace(microsecond=0)
    ctx = context(sessions, box, tmp_path)
    done = run_read_vehicle(message(camera, seen), ctx)
    assert done is not None and done.stored and done.alerts == 1
    read = done.read
    assert (read.plate, read.vehicle_class, read.colour, read.direction) == (
        "M5XSX",
        "car",
        "white",
        "forward",
    )
    assert read.read_at == seen and 0 < read.confidence <= 1
    assert read.evidence is not None
    assert ctx.evidence.path(read.evidence).read_bytes()[:2] == b"\xff\xd8"
    row = session.scalars(select(PlateReadRow).where(PlateReadRow.camera_id == camera.id)).one()
    assert row.plate == "M5XSX"
    alert = session.scalars(select(Alert)).one()
    assert alert.plate == "M5XSX"
    event = session.scalars(
        select(CameraEventRow).where(CameraEventRow.kind == EventKind.PLATE)
    ).one()
    assert event.data["plate"] == "M5XSX" and event.data["read_id"] == str(read.id)

    again = run_read_vehicle(message(camera, seen), ctx)  # the broker redelivered it
    assert again is not None and not again.stored and again.alerts == 0
    assert len(session.scalars(select(PlateReadRow)).all()) == 1
    assert len(session.scalars(select(Alert)).all()) == 1


def test_crops_without_a_legible_plate_store_nothing(
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    camera: Camera,
    tmp_path: Path,
) -> None:
    ok, grey = cv2.imencode(".jpg", np.full((120, 200, 3), 128, dtype=np.uint8))
    assert ok
    body = {
        **message(camera, datetime.now(UTC)),
        "crops": [base64.b64encode(grey.tobytes()).decode()],
    }
    assert run_read_vehicle(body, context(sessions, box, tmp_path)) is None
    assert session.scalars(select(PlateReadRow)).all() == []
