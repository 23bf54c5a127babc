"""The coverage task through a real Celery worker on RabbitMQ (a vhost of its own)."""

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from hub.coverage import service
from hub.coverage.models import CoverageCache
from hub.registry import organizations as org_service
from hub.registry.models import Camera
from hub.settings import Settings
from hub.worker import COVERAGE_QUEUE, make_celery
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus
from schemas.organization import OrganizationCreate
from tests.integration.test_coverage_api import offset, square
from tests.support import c4hub_processes, fresh_database, fresh_vhost

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "rabbitmqctl"], capture_output=True).returncode != 0,
    reason="rabbitmqctl missing",
)


@pytest.fixture
def vhost() -> Iterator[str]:
    with fresh_vhost("c4hub_coverage") as name:
        yield name


def _seed(factory: sessionmaker[Session], settings: Settings) -> None:
    with factory.begin() as session:
        org = org_service.create_organization(
            session,
            OrganizationCreate.model_validate(
                {"slug": "gangnam-gu", "name": "Gangnam", "kind": "district"}
                | {"jurisdiction": square(100)}
            ),
        )
        lon, lat = offset(0, 0)
        session.add(
            Camera(
                owner_id=org.id,
                purpose=CameraPurpose.CRIME_PREVENTION,
                location=f"SRID=4326;POINT({lon} {lat})",
                adapter=AdapterKind.NONE,
                status=CameraStatus.ONLINE,
            )
        )
    with factory.begin() as session:
        target = service.organization_target(session, "gangnam-gu", None)
        service.coverage(session, target, obstacles=False, scope=None, settings=settings)


def test_a_worker_recomputes_the_stale_coverage(vhost: str, tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    broker = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    with fresh_database() as url:
        settings = Settings(database_url=url, data_dir=tmp_path, secret_key=key, broker_url=broker)
        engine = create_engine(url)
        factory = sessionmaker(engine, expire_on_commit=False)
        _seed(factory, settings)
        with factory() as session:
            before = session.scalars(select(CoverageCache.result)).one()["covered_m2"]
        with factory.begin() as session:
            session.execute(update(Camera).values(range_m=60.0))
        env = {
            **os.environ,
            "C4HUB_DATABASE_URL": url,
            "C4HUB_BROKER_URL": broker,
            "C4HUB_DATA_DIR": str(tmp_path),
            "C4HUB_SECRET_KEY": key,
        }
        command = ["worker", "--queues", COVERAGE_QUEUE, "--concurrency", "1"]
        with c4hub_processes([command], env, tmp_path / "worker.log"):
            app = make_celery(settings)
            app.send_task("hub.coverage.tasks.refresh_stale", queue=COVERAGE_QUEUE)
            deadline = time.monotonic() + 90
            after = before
            while time.monotonic() < deadline and after == before:
                time.sleep(0.5)
                with factory() as session:
                    after = session.scalars(select(CoverageCache.result)).one()["covered_m2"]
            app.close()
        engine.dispose()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert after == pytest.approx(before * 4, rel=1e-3), log[-3000:]  # twice the radius
