"""RabbitMQ restarted while vehicles wait and while a worker reads their plates: every read is
stored exactly once (persistent messages on durable queues, acknowledged only after the task,
and ids derived from the sighting, so a redelivery stores nothing twice)."""

import base64
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from hub.analytics.models import CameraAnalytics
from hub.analytics.tasks import read_vehicle
from hub.registry.cameras import create_camera
from hub.registry.organizations import create_organization
from hub.registry.secrets import CredentialBox
from hub.registry.tasks import probe_camera
from hub.worker import PLATES_QUEUE, PROBE_QUEUE, PUBLISH_RETRY
from schemas.camera import CameraCreate
from schemas.organization import OrganizationCreate
from tests.support import DATA, c4hub_processes, fresh_database

PHOTOS = sorted((DATA / "alpr" / "eu").glob("test_0[0-4]*.jpg"))[:24]


def _rabbitmq(*command: str) -> None:
    subprocess.run(["rabbitmqctl", *command], check=True, capture_output=True, timeout=120)


def _restart_broker() -> None:
    _rabbitmq("stop_app")
    _rabbitmq("start_app")
    _rabbitmq("await_startup")


def _seed(url: str, key: str) -> str:
    engine = create_engine(url)
    with Session(engine) as session:
        org = create_organization(
            session, OrganizationCreate(slug="ring-road", name="Ring road", kind="municipality")
        )
        data = {
            "location": {"type": "Point", "coordinates": [25.4, 42.6]},
            "adapter": "rtsp",
            "stream_uri": "rtsp://127.0.0.1:1/road",
        }
        camera = create_camera(
            session, CredentialBox(key), CameraCreate.model_validate(data), org.id
        )
        session.add(
            CameraAnalytics(camera_id=camera.id, settings={"enabled": True, "plates": True})
        )
        session.commit()
        camera_id = str(camera.id)
    engine.dispose()
    return camera_id


def _message(camera_id: str, n: int, photo: Path, start: datetime) -> dict[str, Any]:
    crop = base64.b64encode(photo.read_bytes()).decode()
    return {
        "camera_id": camera_id,
        "track_id": n,
        "object_class": "car",
        "first_seen": (start + timedelta(seconds=n)).isoformat(),
        "last_seen": (start + timedelta(seconds=n + 2)).isoformat(),
        "direction": None,
        "colour": None,
        "crops": [crop],
    }


def _counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        reads = conn.execute(text("SELECT count(*), count(DISTINCT id) FROM plate_reads")).one()
    engine.dispose()
    return int(reads[0]), int(reads[1])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs the broker's rabbitmqctl")
def test_no_read_is_lost_or_stored_twice_across_broker_restarts() -> None:
    key = Fernet.generate_key().decode()
    with fresh_database() as url:
        camera_id = _seed(url, key)
        start = datetime.now(UTC).replace(microsecond=0)
        for n, photo in enumerate(PHOTOS):
            read_vehicle.apply_async(
                args=[_message(camera_id, n, photo, start)], queue=PLATES_QUEUE
            )
        _restart_broker()  # queued, not yet taken: they must survive on disk

        data_dir = Path(tempfile.mkdtemp())
        env = {
            **os.environ,
            "C4HUB_DATABASE_URL": url,
            "C4HUB_SECRET_KEY": key,
            "C4HUB_DATA_DIR": str(data_dir),
        }
        worker = [["worker", "--queues", PLATES_QUEUE, "--concurrency", "1"]]
        with c4hub_processes(worker, env, data_dir / "worker.log"):
            deadline = time.monotonic() + 120
            while _counts(url)[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            _restart_broker()  # while the worker is part-way through
            while _counts(url)[0] < len(PHOTOS) and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(3)  # let any redelivery land, had it been stored twice
            total, distinct = _counts(url)
        log = (data_dir / "worker.log").read_text(errors="replace")
    assert (total, distinct) == (len(PHOTOS), len(PHOTOS)), log[-3000:]
    # This process published before the restarts: its pooled connection is dead, and the API's
    # publish policy replaces it rather than failing the request.
    sent = probe_camera.apply_async(
        args=[str(uuid.uuid4())], queue=PROBE_QUEUE, retry=True, retry_policy=PUBLISH_RETRY
    )
    assert sent.id
