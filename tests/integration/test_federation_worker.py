"""Delivery through a real Celery worker (with beat) on a RabbitMQ vhost of its own: the
agreement proposal and then events leave node A by the `federation` queue's sweep, signed,
and reach node B once. The worker is `c4hub worker` as a process, as a node runs it."""

import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from federation import outbox
from federation.client import PeerClient
from federation.delivery import Clients, DeliveryContext, deliver_peer
from federation.identity import SigningKey
from federation.models import Delivery, DeliveryState, InboxEvent
from hub.auth.service import create_token
from schemas.enums import Role
from schemas.federation import CameraHealthData, EventType, Scope
from schemas.geo import Point
from tests.integration.federation_nodes import Node, peer, running_node
from tests.support import c4hub_processes, fresh_vhost


def wait_for(check: Callable[[], bool], what: str, log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout_s} s; worker log:\n{log.read_text()[-3000:]}")


def admin(node: Node) -> dict[str, str]:
    with node.session() as session:
        return {"Authorization": f"Bearer {create_token(session, Role.ADMIN, None)}"}


def worker_env(node: Node, vhost: str) -> dict[str, str]:
    return {
        **os.environ,
        "C4HUB_DATABASE_URL": str(node.settings.database_url),
        "C4HUB_DATA_DIR": str(node.settings.data_dir),
        "C4HUB_SECRET_KEY": str(node.settings.secret_key),
        "C4HUB_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        "C4HUB_FEDERATION_SWEEP_S": "0.5",
    }


def emit(node: Node, n: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    with node.session() as session:
        for ident in ids:
            data = CameraHealthData(
                camera_id=uuid.uuid4(),
                status="offline",
                previous="online",
                position=Point(type="Point", coordinates=[-101.0, 25.4]),
                changed_at=datetime.now(UTC),
            )
            sent = outbox.emit(
                session, EventType.CAMERA_HEALTH, data, position=(-101.0, 25.4), event_id=ident
            )
            assert sent
    return ids


def test_worker_sweep_delivers_to_the_peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C4HUB_FEDERATION_KICK", "false")  # this process has no broker of its own
    log = tmp_path / "worker.log"
    with (
        running_node("Region", tmp_path / "a") as a,
        running_node("Saltillo", tmp_path / "b") as b,
        fresh_vhost("fbworker") as vhost,
    ):
        peer(a, b)
        command = ["worker", "--queues", "federation", "--beat", "--concurrency", "1"]
        with c4hub_processes([command], worker_env(a, vhost), log):
            terms = {
                "peer_id": str(a.peer_row(b).id),
                "scopes_out": [Scope.CAMERA_HEALTH.value],
                "scopes_in": [],
                "purpose": "Salud de cámaras",
                "legal_basis": "Convenio 2026/17",
                "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            }
            made = httpx.post(f"{a.url}/api/v1/federation/agreements", json=terms, headers=admin(a))
            ident = made.json()["id"]
            at_b = f"{b.url}/api/v1/federation/agreements/{ident}"
            wait_for(
                lambda: httpx.get(at_b, headers=admin(b)).status_code == 200,
                "the proposal reached b through a's worker",
                log,
            )
            assert httpx.post(at_b + "/accept", headers=admin(b)).json()["state"] == "active"

            def make(key: SigningKey) -> PeerClient:
                return PeerClient(key, timeout_s=5)

            ctx = DeliveryContext(b.sessions, Clients(b.settings.data_dir, make))
            assert deliver_peer(ctx, b.peer_row(a).id).delivered == 1  # b's acceptance
            ids = emit(a, 5)

            def arrived() -> bool:
                with b.session() as session:
                    count = session.scalar(
                        select(func.count())
                        .select_from(InboxEvent)
                        .where(InboxEvent.event_id.in_([str(i) for i in ids]))
                    )
                return count == 5

            wait_for(arrived, "five events reached b through a's worker", log)
            with a.session() as session:
                done = session.scalars(select(Delivery.state).where(Delivery.outbox_id.in_(ids)))
                assert set(done) == {DeliveryState.DELIVERED}
