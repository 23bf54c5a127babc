"""An ONVIF probe end to end: a camera registered through the API, probed by a real `c4hub
worker` over RabbitMQ against a real ONVIF device (ipycam on loopback), and the camera record
rewritten from what the device said; a wrong password fails the job without leaking it."""

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hub.auth.service import create_token
from hub.registry.organizations import create_organization
from hub.settings import Settings
from schemas.enums import Role
from schemas.organization import OrganizationCreate
from tests.fixtures.onvif_servers import Ipycam, ipycam_camera
from tests.support import c4hub_processes, fresh_database, live_node

USERNAME = "operator"
PASSWORD = "Pa55:w@rd/Worker!"  # URI-special characters, so a leak through a URL would show
WRONG_PASSWORD = "not-the-Worker-Secret-9"
JOB_DEADLINE_S = 30
_SKEW = timedelta(seconds=2)  # the database's clock against ours, and rounding


@dataclass(frozen=True)
class Node:
    base: str
    headers: dict[str, str]
    org_id: str
    worker_log: Path
    camera: Ipycam


def _seed(url: str) -> tuple[str, str]:
    """An organization and an admin token in the node's database."""
    engine = create_engine(url)
    with Session(engine) as session:
        org = create_organization(
            session, OrganizationCreate(slug="mapo-gu", name="Mapo-gu", kind="district")
        )
        token = create_token(session, Role.ADMIN, None, "onvif probe e2e")
        org_id = str(org.id)
        session.commit()
    engine.dispose()
    return org_id, token


@contextmanager
def _worker(url: str, key: str, data_dir: Path) -> Iterator[Path]:
    """`c4hub worker` as its own process, logging at debug level; yields its log file."""
    env = {
        **os.environ,
        "C4HUB_DATABASE_URL": url,
        "C4HUB_SECRET_KEY": key,
        "C4HUB_DATA_DIR": str(data_dir),
        "C4HUB_PROBE_TIMEOUT_S": "10",
    }
    log = data_dir / "worker.log"
    with c4hub_processes([["worker", "--concurrency", "1", "--loglevel", "debug"]], env, log):
        yield log


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    """ipycam, a fresh database, a live API and a worker, shared by the tests of this module."""
    key = Fernet.generate_key().decode()
    data_dir = Path(tempfile.mkdtemp(prefix="c4hub-onvif-e2e-"))
    with (
        ipycam_camera(USERNAME, PASSWORD) as camera,
        fresh_database() as url,
        _worker(url, key, data_dir) as log,
    ):
        org_id, token = _seed(url)
        settings = Settings(database_url=url, data_dir=data_dir, secret_key=key)
        with live_node(settings) as base:
            headers = {"Authorization": f"Bearer {token}"}
            yield Node(base, headers, org_id, log, camera)


def _register(node: Node, password: str) -> dict[str, Any]:
    body = {
        "owner_id": node.org_id,
        "location": {"type": "Point", "coordinates": [126.91, 37.55]},
        "adapter": "onvif",
        "stream_uri": node.camera.device_url,
        "credentials": {"username": USERNAME, "password": password},
    }
    r = httpx.post(f"{node.base}/api/v1/cameras", json=body, headers=node.headers)
    assert r.status_code == 201, r.text
    assert password not in r.text
    camera: dict[str, Any] = r.json()
    return camera


def _probe(node: Node, camera_id: str) -> tuple[dict[str, Any], list[str]]:
    """Queue a probe and poll its job until it finishes; the job and every answer's text."""
    r = httpx.post(f"{node.base}/api/v1/cameras/{camera_id}/probe", headers=node.headers)
    assert r.status_code == 202, r.text
    texts = [r.text]
    job: dict[str, Any] = r.json()
    deadline = time.monotonic() + JOB_DEADLINE_S
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        got = httpx.get(node.base + r.headers["location"], headers=node.headers)
        texts.append(got.text)
        job = got.json()
    tail = node.worker_log.read_text(errors="replace")[-3000:]
    assert job["state"] in ("succeeded", "failed"), (job, tail)
    return job, texts


def _camera(node: Node, camera_id: str) -> tuple[dict[str, Any], str]:
    r = httpx.get(f"{node.base}/api/v1/cameras/{camera_id}", headers=node.headers)
    assert r.status_code == 200, r.text
    return r.json(), r.text


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and WRONG_PASSWORD not in text


@pytest.mark.slow
def test_worker_probe_describes_the_onvif_camera_and_updates_its_record(node: Node) -> None:
    registered = _register(node, PASSWORD)
    assert registered["status"] == "unknown" and registered["ptz"] is False
    before = datetime.now(UTC)
    job, texts = _probe(node, registered["id"])
    camera, camera_text = _camera(node, registered["id"])
    ipycam = node.camera

    assert job["state"] == "succeeded", job
    assert job["attempts"] == 1 and job["error_code"] is None and job["error_message"] is None
    result = job["result"]
    assert result["adapter"] == "onvif"
    assert (result["manufacturer"], result["model"], result["firmware"]) == (
        ipycam.manufacturer,
        ipycam.model,
        ipycam.firmware,
    )
    main_uri = f"rtsp://127.0.0.1:{ipycam.rtsp_port}/video_main"
    streams = {stream["token"]: stream for stream in result["streams"]}
    assert set(streams) == {"Profile_Main", "Profile_Sub"}
    assert streams["Profile_Main"]["role"] == "main" and streams["Profile_Main"]["uri"] == main_uri
    assert (streams["Profile_Main"]["width"], streams["Profile_Main"]["height"]) == (1280, 720)
    assert streams["Profile_Sub"]["role"] == "sub"
    assert streams["Profile_Sub"]["uri"] == f"rtsp://127.0.0.1:{ipycam.rtsp_port}/video_sub"
    assert result["ptz"] is True

    assert (camera["vendor"], camera["model"], camera["firmware"]) == (
        "PythonCam",
        "VirtualCam-1",
        "1.3.0",
    )
    assert camera["stream_uri"] == main_uri
    assert camera["snapshot_uri"] == f"http://127.0.0.1:{ipycam.port}/snapshot.jpg"
    assert camera["ptz"] is True and camera["status"] == "online"
    assert camera["capabilities"] == result["capabilities"] and "ptz" in camera["capabilities"]
    assert [s["token"] for s in camera["streams"]] == [s["token"] for s in result["streams"]]
    seen = datetime.fromisoformat(camera["last_seen_at"])
    assert before - _SKEW <= seen <= datetime.now(UTC) + _SKEW
    _assert_no_secret(*texts, camera_text, node.worker_log.read_text(errors="replace"))


@pytest.mark.slow
def test_wrong_password_fails_the_job_as_authentication_failed_without_leaking_it(
    node: Node,
) -> None:
    registered = _register(node, WRONG_PASSWORD)
    job, texts = _probe(node, registered["id"])
    camera, camera_text = _camera(node, registered["id"])

    assert job["state"] == "failed", job
    assert job["error_code"] == "authentication_failed"
    assert "rejected the credentials" in job["error_message"]
    assert job["result"] is None
    # The device answered: the camera is not offline, and nothing it said was written.
    assert camera["status"] == "unknown" and camera["vendor"] is None
    assert camera["capabilities"] == [] and camera["streams"] is None
    assert camera["stream_uri"] == node.camera.device_url and camera["last_seen_at"] is None
    _assert_no_secret(*texts, camera_text, node.worker_log.read_text(errors="replace"))
