"""The probe API: queue a probe (202 + Location), read the job, roles and scoping, and one run
end to end through RabbitMQ and a real `c4hub worker` against the real RTSP adapter."""

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hub.auth.service import create_token
from hub.registry import tasks
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.organizations import create_organization
from hub.registry.probe import ProbeJob
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.camera import CameraCreate
from schemas.enums import CameraStatus, Role
from schemas.organization import OrganizationCreate
from tests.support import c4hub_processes, free_port, fresh_database, live_node

Headers = dict[str, str]
PASSWORD = "pa55-never-shown"


def _camera_data(adapter: str = "rtsp", uri: str | None = "rtsp://127.0.0.1:1/live") -> Any:
    return CameraCreate.model_validate(
        {
            "location": {"type": "Point", "coordinates": [127.05, 37.5]},
            "adapter": adapter,
            "stream_uri": uri,
            "credentials": {"username": "admin", "password": PASSWORD},
        }
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The task messages the API sends, recorded instead of published."""
    messages: list[list[str]] = []

    def record(args: list[str], **_: Any) -> None:
        messages.append(args)

    monkeypatch.setattr(tasks.probe_camera, "apply_async", record)
    return messages


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    return create_camera(session, box, _camera_data(), org.id)


def test_post_queues_a_job_and_get_reads_it(
    client: TestClient, admin: Headers, camera: Camera, sent: list[list[str]]
) -> None:
    r = client.post(f"/api/v1/cameras/{camera.id}/probe", headers=admin)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] == "queued" and job["camera_id"] == str(camera.id)
    assert r.headers["location"] == f"/api/v1/probe-jobs/{job['id']}"
    assert sent == [[job["id"]]]
    assert PASSWORD not in r.text
    got = client.get(r.headers["location"], headers=admin)
    assert got.status_code == 200 and got.json()["id"] == job["id"]


def test_planner_may_not_probe(
    client: TestClient, auth: Callable[..., Headers], camera: Camera, sent: list[list[str]]
) -> None:
    r = client.post(f"/api/v1/cameras/{camera.id}/probe", headers=auth(Role.PLANNER))
    assert r.status_code == 403 and sent == []


def test_business_sees_only_its_own_cameras_and_jobs(
    client: TestClient,
    admin: Headers,
    auth: Callable[..., Headers],
    make_org: Callable[..., Organization],
    camera: Camera,
    sent: list[list[str]],
) -> None:
    other = auth(Role.BUSINESS, make_org("acme-security"))
    assert client.post(f"/api/v1/cameras/{camera.id}/probe", headers=other).status_code == 404
    job_id = client.post(f"/api/v1/cameras/{camera.id}/probe", headers=admin).json()["id"]
    assert client.get(f"/api/v1/probe-jobs/{job_id}", headers=other).status_code == 404
    assert len(sent) == 1


@pytest.mark.parametrize(("adapter", "uri"), [("none", "rtsp://127.0.0.1:1/x"), ("rtsp", None)])
def test_nothing_to_probe_is_409(
    client: TestClient,
    admin: Headers,
    session: Session,
    box: CredentialBox,
    org: Organization,
    sent: list[list[str]],
    adapter: str,
    uri: str | None,
) -> None:
    cam = create_camera(session, box, _camera_data(adapter, uri), org.id)
    r = client.post(f"/api/v1/cameras/{cam.id}/probe", headers=admin)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert sent == []


def test_broker_down_is_503_and_the_job_failed(
    client: TestClient,
    admin: Headers,
    camera: Camera,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.probe_camera, "apply_async", refuse)
    r = client.post(f"/api/v1/cameras/{camera.id}/probe", headers=admin)
    assert r.status_code == 503 and r.json()["type"].endswith("/queue-unavailable")
    job = session.query(ProbeJob).filter_by(camera_id=camera.id).one()
    assert job.state == "failed" and job.error_code == "queue_unavailable"


def test_unknown_job_is_404(client: TestClient, admin: Headers) -> None:
    r = client.get("/api/v1/probe-jobs/00000000-0000-4000-8000-000000000000", headers=admin)
    assert r.status_code == 404


# --- end to end: API -> RabbitMQ -> c4hub worker -> RtspAdapter -> database -------------------


@pytest.fixture
def node_database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _seed(url: str, key: str, stream_uri: str) -> tuple[str, str]:
    engine = create_engine(url)
    with Session(engine) as session:
        org = create_organization(
            session, OrganizationCreate(slug="mapo-gu", name="Mapo-gu", kind="district")
        )
        cam = create_camera(session, CredentialBox(key), _camera_data("rtsp", stream_uri), org.id)
        token = create_token(session, Role.OPERATOR, None, "probe e2e")
        ids = (str(cam.id), token)
        session.commit()
    engine.dispose()
    return ids


@pytest.mark.slow
def test_probe_of_a_closed_port_fails_refused_through_a_real_worker(node_database: str) -> None:
    key = Fernet.generate_key().decode()
    camera_id, token = _seed(node_database, key, f"rtsp://127.0.0.1:{free_port()}/live")
    data_dir = Path(tempfile.mkdtemp())
    env = {
        **os.environ,
        "C4HUB_DATABASE_URL": node_database,
        "C4HUB_SECRET_KEY": key,
        "C4HUB_DATA_DIR": str(data_dir),
        "C4HUB_PROBE_TIMEOUT_S": "3",
    }
    log_path = data_dir / "worker.log"
    settings = Settings(database_url=node_database, data_dir=data_dir, secret_key=key)
    headers = {"Authorization": f"Bearer {token}"}
    worker = [["worker", "--concurrency", "1"]]
    with c4hub_processes(worker, env, log_path), live_node(settings) as base:
        r = httpx.post(f"{base}/api/v1/cameras/{camera_id}/probe", headers=headers)
        assert r.status_code == 202, r.text
        job = r.json()
        deadline = time.monotonic() + 15
        while job["state"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = httpx.get(base + r.headers["location"], headers=headers).json()
        cam = httpx.get(f"{base}/api/v1/cameras/{camera_id}", headers=headers).json()
    log_text = log_path.read_text(errors="replace")
    assert job["state"] == "failed", (job, log_text[-2000:])
    assert job["error_code"] == "connection_refused"
    assert cam["status"] == CameraStatus.OFFLINE
    assert PASSWORD not in log_text and PASSWORD not in str(job)
