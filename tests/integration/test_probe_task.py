"""The probe task, called directly (no broker) on the real database with adapters of its own;
and, through RabbitMQ, the dead-letter path of a message it gives up on."""

import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import AuthenticationFailed, Target
from adapters.registry import GROUP, AdapterRegistry
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.probe import ProbeJob, ProbeState, create_job
from hub.registry.secrets import CredentialBox
from hub.registry.tasks import ProbeContext, probe_camera, run_probe
from hub.worker import PROBE_QUEUE, celery_app, dead_queue
from schemas.adapters import CameraDescription, Capability, StreamProfile, StreamRole
from schemas.camera import CameraCreate
from schemas.enums import AdapterKind, CameraStatus
from tests.support import fresh_database

PASSWORD = "pa55-never-shown"
MAIN_URI = "rtsp://127.0.0.1:8554/main"
CALLS: list[Target] = []


class FoundAdapter:
    """Answers every probe with a fixed description and counts the calls."""

    @property
    def kind(self) -> AdapterKind:
        return AdapterKind.RTSP

    async def probe(self, target: Target) -> CameraDescription:
        CALLS.append(target)
        return CameraDescription(
            adapter=AdapterKind.RTSP,
            manufacturer="Acme",
            model="Cam 9",
            firmware="2.1.0",
            streams=[
                StreamProfile(token="main", role=StreamRole.MAIN, uri=MAIN_URI, codec="H264"),
                StreamProfile(token="sub", role=StreamRole.SUB, uri="rtsp://127.0.0.1:8554/sub"),
            ],
            snapshot_uri="http://127.0.0.1:8080/snap.jpg",
            capabilities=[Capability.SNAPSHOT],
            probed_at=datetime.now(UTC),
        )

    async def snapshot(self, target: Target) -> bytes:
        return b""


class RejectingAdapter(FoundAdapter):
    """Rejects the credentials, with a careless message that holds the password."""

    async def probe(self, target: Target) -> CameraDescription:
        raise AuthenticationFailed(f"401 for {target.username}:{target.password} at {target.uri}")


def _registry(cls: type) -> AdapterRegistry:
    point = EntryPoint(name="rtsp", value=f"{__name__}:{cls.__name__}", group=GROUP)
    return AdapterRegistry([point])


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits release savepoints of the test's transaction (rolled back)."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture(autouse=True)
def _no_calls() -> Iterator[None]:
    CALLS.clear()
    yield
    CALLS.clear()


@pytest.fixture
def job(session: Session, box: CredentialBox, make_org: Callable[..., Organization]) -> ProbeJob:
    camera = create_camera(
        session,
        box,
        CameraCreate.model_validate(
            {
                "location": {"type": "Point", "coordinates": [127.05, 37.5]},
                "adapter": "rtsp",
                "stream_uri": "rtsp://127.0.0.1:8554/old",
                "vendor": "Entered by hand",
                "credentials": {"username": "admin", "password": PASSWORD},
            }
        ),
        make_org().id,
    )
    made = create_job(session, camera)
    session.commit()
    return made


def _ctx(sessions: sessionmaker[Session], box: CredentialBox, cls: type) -> ProbeContext:
    return ProbeContext(sessions=sessions, box=box, adapters=_registry(cls), timeout_s=2)


def _reload(session: Session, job: ProbeJob) -> tuple[ProbeJob, Camera]:
    session.expire_all()
    fresh = session.get(ProbeJob, job.id)
    assert fresh is not None
    camera = session.get(Camera, fresh.camera_id)
    assert camera is not None
    return fresh, camera


def test_success_updates_camera_and_job(
    sessions: sessionmaker[Session], session: Session, box: CredentialBox, job: ProbeJob
) -> None:
    state = run_probe(job.id, _ctx(sessions, box, FoundAdapter))
    done, camera = _reload(session, job)
    assert state is ProbeState.SUCCEEDED and done.state is ProbeState.SUCCEEDED
    assert done.attempts == 1 and done.finished_at is not None and done.error_code is None
    assert done.result is not None and done.result["model"] == "Cam 9"
    assert (camera.vendor, camera.model, camera.firmware) == ("Acme", "Cam 9", "2.1.0")
    assert camera.stream_uri == MAIN_URI
    assert camera.snapshot_uri == "http://127.0.0.1:8080/snap.jpg"
    assert camera.status is CameraStatus.ONLINE and camera.last_seen_at is not None
    assert camera.streams is not None
    assert [(s["token"], s["role"], s["uri"]) for s in camera.streams] == [
        ("main", "main", MAIN_URI),
        ("sub", "sub", "rtsp://127.0.0.1:8554/sub"),
    ]
    assert camera.capabilities == ["snapshot"]
    assert CALLS[0].password == PASSWORD and CALLS[0].uri == "rtsp://127.0.0.1:8554/old"


def test_authentication_failure_marks_failed_without_the_password(
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    job: ProbeJob,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        state = run_probe(job.id, _ctx(sessions, box, RejectingAdapter))
    done, camera = _reload(session, job)
    assert state is ProbeState.FAILED and done.state is ProbeState.FAILED
    assert done.error_code == "authentication_failed"
    assert done.error_message and "401 for admin:" in done.error_message
    assert PASSWORD not in done.error_message and PASSWORD not in caplog.text
    assert done.result is None
    assert camera.status is CameraStatus.UNKNOWN  # the camera answered: not offline
    assert camera.vendor == "Entered by hand"


def test_finished_job_is_left_alone(
    sessions: sessionmaker[Session], session: Session, box: CredentialBox, job: ProbeJob
) -> None:
    assert run_probe(job.id, _ctx(sessions, box, RejectingAdapter)) is ProbeState.FAILED
    # A redelivered message: the job is finished, so nothing runs and nothing changes.
    again = run_probe(job.id, _ctx(sessions, box, FoundAdapter))
    done, camera = _reload(session, job)
    assert again is ProbeState.FAILED and done.state is ProbeState.FAILED
    assert done.attempts == 1 and CALLS == []
    assert camera.vendor == "Entered by hand"


def test_missing_job_is_skipped(sessions: sessionmaker[Session], box: CredentialBox) -> None:
    assert run_probe(uuid.uuid4(), _ctx(sessions, box, FoundAdapter)) is None
    assert CALLS == []


# --- through the broker: a message the task gives up on dead-letters to probe.dead ------------


def _dead_letter_has(conn: Any, marker: str, deadline: float) -> bool:
    """Take `marker`'s message out of probe.dead (others go back untouched)."""
    queue: Any = dead_queue(conn.default_channel)  # kombu leaves its methods untyped
    while time.monotonic() < deadline:
        others = []
        found = False
        while (message := queue.get(no_ack=False)) is not None:
            body = message.body
            if marker in (body.decode(errors="replace") if isinstance(body, bytes) else body):
                message.ack()
                found = True
            else:
                others.append(message)
        for message in others:
            message.requeue()
        if found:
            return True
        time.sleep(0.3)
    return False


@pytest.mark.slow
def test_a_failing_message_ends_in_the_dead_letter_queue() -> None:
    marker = f"not-a-job-{uuid.uuid4().hex}"
    with fresh_database() as url, celery_app.connection_for_write() as conn:
        queue: Any = dead_queue(conn.default_channel)
        queue.declare()
        env = {
            **os.environ,
            "C4HUB_DATABASE_URL": url,
            "C4HUB_SECRET_KEY": Fernet.generate_key().decode(),
            "C4HUB_DATA_DIR": tempfile.mkdtemp(),
        }
        command = [str(Path(sys.executable).parent / "c4hub"), "worker", "--concurrency", "1"]
        worker = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            # Not a UUID: the task raises, the message is rejected and RabbitMQ dead-letters it.
            probe_camera.apply_async(args=[marker], queue=PROBE_QUEUE)
            assert _dead_letter_has(conn, marker, time.monotonic() + 15)
        finally:
            worker.terminate()
            worker.wait(timeout=15)
