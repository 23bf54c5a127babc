"""The health sweep as a node runs it: the scheduler (`c4hub worker --beat`, or `c4hub beat`
beside a plain worker, as docker/compose.yaml runs them) sends the sweep through RabbitMQ on
schedule, the worker checks the cameras against a real RTSP server, and the API shows it."""

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hub.auth.service import create_token
from hub.registry.cameras import create_camera
from hub.registry.organizations import create_organization
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.camera import CameraCreate
from schemas.enums import Role
from schemas.organization import OrganizationCreate
from tests.fixtures.rtsp_server import PASSWORD, USERNAME, rtsp_private_url
from tests.support import c4hub_processes, free_port, fresh_database, live_node

__all__ = ["rtsp_private_url"]  # the fixture, used by name below


@pytest.fixture
def node_database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _seed(url: str, key: str, streams: dict[str, str]) -> tuple[dict[str, str], str]:
    engine = create_engine(url)
    with Session(engine) as session:
        org = create_organization(
            session, OrganizationCreate(slug="mapo-gu", name="Mapo-gu", kind="district")
        )
        ids = {}
        for i, (name, uri) in enumerate(streams.items()):
            data = CameraCreate.model_validate(
                {
                    "location": {"type": "Point", "coordinates": [126.9 + i * 1e-3, 37.55]},
                    "adapter": "rtsp",
                    "stream_uri": uri,
                    "credentials": {"username": USERNAME, "password": PASSWORD},
                }
            )
            ids[name] = str(create_camera(session, CredentialBox(key), data, org.id).id)
        token = create_token(session, Role.OPERATOR, None, "health e2e")
        session.commit()
    engine.dispose()
    return ids, token


def _wait_for_checks(base: str, headers: dict[str, str], ids: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        found = {
            name: httpx.get(f"{base}/api/v1/cameras/{cid}/health", headers=headers).json()
            for name, cid in ids.items()
        }
        if all(h["last_check"] is not None for h in found.values()):
            break
        time.sleep(0.5)
    return found


EMBEDDED = [["worker", "--beat", "--concurrency", "1"]]
SEPARATE = [["beat"], ["worker", "--concurrency", "1"]]


@pytest.mark.slow
@pytest.mark.parametrize("commands", [EMBEDDED, SEPARATE], ids=["worker--beat", "beat+worker"])
def test_the_scheduled_sweep_checks_cameras_and_the_api_shows_it(
    node_database: str, rtsp_private_url: str, commands: list[list[str]]
) -> None:
    key = Fernet.generate_key().decode()
    ids, token = _seed(
        node_database,
        key,
        {"live": f"{rtsp_private_url}/clean", "dead": f"rtsp://127.0.0.1:{free_port()}/x"},
    )
    data_dir = Path(tempfile.mkdtemp())
    env = {
        **os.environ,
        "C4HUB_DATABASE_URL": node_database,
        "C4HUB_SECRET_KEY": key,
        "C4HUB_DATA_DIR": str(data_dir),
        "C4HUB_HEALTH_SWEEP_EVERY_S": "1",
        "C4HUB_HEALTH_TIMEOUT_S": "10",
    }
    log_path = data_dir / "worker.log"
    settings = Settings(database_url=node_database, data_dir=data_dir, secret_key=key)
    headers = {"Authorization": f"Bearer {token}"}
    with c4hub_processes(commands, env, log_path), live_node(settings) as base:
        health = _wait_for_checks(base, headers, ids)
    log_text = log_path.read_text(errors="replace")
    live, dead = health["live"], health["dead"]
    assert live["last_check"] is not None, log_text[-3000:]
    assert live["status"] == "online" and live["last_check"]["findings"] == []
    assert live["depth"] == "decode" and live["baseline_set"] is True
    assert [(h["previous"], h["status"]) for h in live["history"]] == [("unknown", "online")]
    assert dead["status"] == "offline"
    assert dead["last_check"]["error_code"] == "connection_refused"
    assert PASSWORD not in log_text and PASSWORD not in str(health)
