"""The events intake end to end: ONVIF cameras registered in a real database, the events test
server (captured answers) as the cameras, RabbitMQ as the broker, the intake in-process.

Each test has a database of its own, copied from a migrated template.
"""

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

# kombu ships py.typed but leaves these untyped and not re-exported.
from kombu import Connection, Queue  # type: ignore[attr-defined]
from sqlalchemy import Engine, create_engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.onvif.pullpoint import PullPointSettings
from hub.app import create_app
from hub.auth.service import create_token
from hub.db import make_sessionmaker, session_scope
from hub.events import service
from hub.events.intake import Intake, IntakeContext
from hub.events.models import CameraEventRow
from hub.events.publisher import EventPublisher, PublisherSettings, events_exchange
from hub.events.writer import EventWriter, WriterSettings
from hub.registry.cameras import create_camera
from hub.registry.models import Camera
from hub.registry.organizations import create_organization
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.camera import CameraCreate
from schemas.enums import CameraStatus, OrganizationKind, Role
from schemas.events import CameraEvent, EventKind, NormalizedEvent
from schemas.organization import OrganizationCreate
from tests.fixtures.onvif_events_server import EventsServer, onvif_events_server
from tests.support import SERVER_URL, free_port, fresh_database

BROKER = "amqp://guest:guest@127.0.0.1:5672//"
KEY = Fernet.generate_key().decode()
PASSWORD = "ev3nts-Secret!"
FAST_PULLS = PullPointSettings(
    termination_s=60, pull_timeout_s=1, backoff_initial_s=0.1, backoff_max_s=0.3
)
FAST_WRITES = WriterSettings(batch_wait_s=0.05)
UNKNOWN_MESSAGE = re.search(
    r"<wsnt:NotificationMessage>.*</wsnt:NotificationMessage>",
    (Path(__file__).parents[1] / "fixtures" / "onvif" / "unknown_topic.xml").read_text(),
    re.DOTALL,
)


@pytest.fixture(scope="module")
def migrated() -> Iterator[str]:
    """A migrated database used only as a template: copies of it cost a fraction of a
    migration, so each test gets a database of its own (the intake takes in every camera)."""
    with fresh_database() as url:
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def sessions(migrated: str) -> Iterator[sessionmaker[Session]]:
    name = f"c4hub_test_{uuid.uuid4().hex[:12]}"
    admin = SERVER_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated}"')
    engine: Engine = create_engine(SERVER_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def server() -> Iterator[EventsServer]:
    with onvif_events_server() as running:
        yield running


@pytest.fixture
def register(sessions: sessionmaker[Session]) -> Callable[[EventsServer], uuid.UUID]:
    """Register an ONVIF camera (with credentials) whose device service is `server`."""
    with session_scope(sessions) as session:
        slug = f"district-{uuid.uuid4().hex[:8]}"
        org_id = create_organization(
            session, OrganizationCreate(slug=slug, name=slug, kind=OrganizationKind.DISTRICT)
        ).id

    def make(server: EventsServer) -> uuid.UUID:
        data = CameraCreate.model_validate(
            {
                "location": {"type": "Point", "coordinates": [127.05, 37.5]},
                "adapter": "onvif",
                "stream_uri": server.device_url,
                "credentials": {"username": "operator", "password": PASSWORD},
            }
        )
        with session_scope(sessions) as session:
            return create_camera(session, CredentialBox(KEY), data, org_id).id

    return make


def context(
    sessions: sessionmaker[Session], broker: str | None = BROKER, reload_s: float = 5.0
) -> IntakeContext:
    publisher = (
        None
        if broker is None
        else EventPublisher(
            sessions,
            broker,
            PublisherSettings(timeout_s=2, retry_initial_s=0.1, retry_max_s=0.2, poll_s=0.5),
        )
    )
    return IntakeContext(
        sessions=sessions,
        box=CredentialBox(KEY),
        publisher=publisher,
        reload_s=reload_s,
        call_timeout_s=1.0,
        pullpoint=FAST_PULLS,
        writer=FAST_WRITES,
    )


def run_intake(
    ctx: IntakeContext,
    until: Callable[[], bool],
    timeout_s: float = 10.0,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Run the intake until `until()` holds (checked off the loop), then stop it as SIGTERM
    would. `meanwhile` runs once, off the loop, after the first check."""

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(Intake(ctx).run(stop))
        deadline = time.monotonic() + timeout_s
        first = True
        while not await asyncio.to_thread(until) and time.monotonic() < deadline:
            assert not task.done(), "the intake stopped by itself"
            if first and meanwhile is not None:
                await asyncio.to_thread(meanwhile)
            first = False
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(task, 15)

    asyncio.run(main())


def stored(sessions: sessionmaker[Session], camera_id: uuid.UUID) -> list[CameraEventRow]:
    with sessions() as session:
        stmt = select(CameraEventRow).where(CameraEventRow.camera_id == camera_id)
        return list(session.scalars(stmt))


@pytest.fixture
def listen() -> Iterator[Callable[[uuid.UUID], Any]]:
    """Bind a temporary queue to the exchange "events" for camera.<id>.# (before the run)."""
    connection: Any = Connection(BROKER, connect_timeout=5)  # type: ignore[no-untyped-call]
    opened: list[Any] = []

    def bind(camera_id: uuid.UUID) -> Any:
        queue: Any = Queue(  # type: ignore[no-untyped-call]
            f"test-events-{uuid.uuid4().hex[:8]}",
            exchange=events_exchange(),
            routing_key=f"camera.{camera_id}.#",
            exclusive=True,
        )
        simple = connection.SimpleQueue(queue)
        opened.append(simple)
        return simple

    yield bind
    for simple in opened:
        simple.close()
    connection.release()


def drain(queue: Any, expected: int) -> list[Any]:
    messages = []
    for _ in range(expected):
        message = queue.get(block=True, timeout=5)
        message.ack()
        messages.append(message)
    return messages


def test_events_are_stored_served_and_published(
    sessions: sessionmaker[Session],
    server: EventsServer,
    register: Callable[[EventsServer], uuid.UUID],
    listen: Callable[[uuid.UUID], Any],
    tmp_path: Path,
) -> None:
    assert UNKNOWN_MESSAGE is not None
    server.extra_messages = [UNKNOWN_MESSAGE.group(0)]
    camera_id = register(server)
    queue = listen(camera_id)

    run_intake(context(sessions), lambda: len(stored(sessions, camera_id)) >= 3)
    rows = stored(sessions, camera_id)
    messages = drain(queue, 3)

    kinds = sorted(row.kind.value for row in rows)
    assert kinds == ["motion", "motion", "unknown"]
    unknown = next(row for row in rows if row.kind is EventKind.UNKNOWN)
    assert unknown.topic == "tns1:Device/Trigger/DigitalInput"
    assert unknown.raw is not None and "DIGIT_INPUT_000" in unknown.raw
    motion = next(row for row in rows if row.kind is EventKind.MOTION)
    assert motion.active is True and motion.subject["VideoSourceConfigurationToken"] == "000"
    assert all(row.published_at is not None for row in rows)
    # On the broker: one persistent JSON message per event, routed by camera and kind.
    keys = sorted(m.delivery_info["routing_key"] for m in messages)
    assert keys == [f"camera.{camera_id}.motion"] * 2 + [f"camera.{camera_id}.unknown"]
    assert all(m.content_type == "application/json" for m in messages)
    assert all(m.properties["delivery_mode"] == 2 for m in messages)
    published = [CameraEvent.model_validate(m.payload) for m in messages]
    assert {e.id for e in published} == {row.id for row in rows}
    # In the API.
    settings = Settings(database_url=_url(sessions), data_dir=tmp_path, secret_key=KEY)
    with session_scope(sessions) as session:
        token = create_token(session, Role.ADMIN, None)
    with TestClient(create_app(settings)) as client:
        r = client.get(
            f"/api/v1/cameras/{camera_id}/events", headers={"Authorization": f"Bearer {token}"}
        )
    assert r.status_code == 200
    assert {item["id"] for item in r.json()["items"]} == {str(row.id) for row in rows}
    assert PASSWORD not in r.text
    # Stopping unsubscribed.
    assert server.operations()[-1] == "Unsubscribe"


def _url(sessions: sessionmaker[Session]) -> str:
    engine = sessions.kw["bind"]
    return str(engine.url.render_as_string(hide_password=False))


def test_resource_unknown_makes_the_intake_subscribe_again_and_go_on(
    sessions: sessionmaker[Session],
    server: EventsServer,
    register: Callable[[EventsServer], uuid.UUID],
) -> None:
    server.resource_unknown_once = True
    camera_id = register(server)

    def pulled_on_the_second_subscription() -> bool:
        pulls = [n for op, n, _ in server.requests if op == "PullMessages" and n == 2]
        return len(stored(sessions, camera_id)) >= 2 and len(pulls) >= 2

    run_intake(context(sessions, broker=None), pulled_on_the_second_subscription)

    assert server.operations().count("CreatePullPointSubscription") == 2
    assert [row.kind for row in stored(sessions, camera_id)] == [EventKind.MOTION] * 2


def test_cameras_added_and_decommissioned_while_running(
    sessions: sessionmaker[Session],
    server: EventsServer,
    register: Callable[[EventsServer], uuid.UUID],
) -> None:
    first = register(server)
    with onvif_events_server() as later_server:

        def change_the_registry() -> None:
            with session_scope(sessions) as session:
                session.execute(
                    update(Camera)
                    .where(Camera.id == first)
                    .values(status=CameraStatus.DECOMMISSIONED)
                )
            register(later_server)

        def done() -> bool:
            return "Unsubscribe" in server.operations() and len(later_server.requests) > 3

        run_intake(
            context(sessions, broker=None, reload_s=0.3),
            lambda: "PullMessages" in server.operations() and done(),
            meanwhile=change_the_registry,
        )
        assert "CreatePullPointSubscription" in later_server.operations()

    # Unsubscribed at the reload, while the intake went on with the other camera.
    operations = server.operations()
    assert operations.count("Unsubscribe") == 1
    assert operations.count("CreatePullPointSubscription") == 1
    assert operations[-1] == "Unsubscribe"


def test_a_broker_outage_keeps_events_for_later(
    sessions: sessionmaker[Session],
    server: EventsServer,
    register: Callable[[EventsServer], uuid.UUID],
    listen: Callable[[uuid.UUID], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera_id = register(server)
    queue = listen(camera_id)
    caplog.set_level(logging.WARNING, logger="hub.events")
    down = f"amqp://guest:guest@127.0.0.1:{free_port()}//"  # nothing listens there
    started = time.monotonic()

    run_intake(
        context(sessions, broker=down),
        lambda: len(stored(sessions, camera_id)) >= 2 and time.monotonic() - started > 2,
    )

    rows = stored(sessions, camera_id)
    assert len(rows) == 2 and all(row.published_at is None for row in rows)
    assert caplog.text.count("cannot publish events") == 1  # once per outage, not per retry
    # The broker is back (here: the right address): the kept events go out.
    publisher = EventPublisher(sessions, BROKER)
    try:
        assert publisher.publish_pending() >= 2
    finally:
        publisher.close()
    assert {m.payload["id"] for m in drain(queue, 2)} == {str(row.id) for row in rows}
    assert all(row.published_at is not None for row in stored(sessions, camera_id))


def test_a_redelivered_event_is_stored_and_published_once(
    sessions: sessionmaker[Session],
    server: EventsServer,
    register: Callable[[EventsServer], uuid.UUID],
    listen: Callable[[uuid.UUID], Any],
) -> None:
    camera_id = register(server)
    queue = listen(camera_id)
    event = NormalizedEvent(
        camera_id=camera_id,
        kind=EventKind.TAMPER,
        occurred_at="2026-11-21T05:30:00Z",
        active=True,
        source="onvif",
        topic="tns1:RuleEngine/TamperDetector/Tamper",
    )

    async def deliver_twice() -> int:
        writer = EventWriter(sessions, asyncio.Event(), FAST_WRITES)
        writing = asyncio.create_task(writer.run())
        await writer.put(event)
        await writer.put(event)  # the same id again, as a redelivery brings it
        await writer.close()
        await writing
        return writer.stored

    assert asyncio.run(deliver_twice()) == 1
    publisher = EventPublisher(sessions, BROKER)
    try:
        publisher.publish_pending()
        publisher.publish_pending()
    finally:
        publisher.close()
    assert [row.id for row in stored(sessions, camera_id)] == [event.id]
    assert drain(queue, 1)[0].payload["id"] == str(event.id)
    with pytest.raises(queue.Empty):  # and nothing more: the duplicate was not published
        queue.get(block=True, timeout=0.5)


class BrokerSwitch:
    """A loopback port that forwards to RabbitMQ while on and refuses connections while off:
    an outage and a recovery of the broker as the intake sees them."""

    def __init__(self) -> None:
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.links: list[socket.socket] = []

    @property
    def is_on(self) -> bool:
        return self.listener is not None

    def on(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def off(self) -> None:
        listener, self.listener = self.listener, None
        for sock in [*([listener] if listener else []), *self.links]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                upstream = socket.create_connection(("127.0.0.1", 5672), timeout=5)
                upstream.settimeout(None)
                self.links += [client, upstream]
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_events_stored_during_a_broker_outage_go_out_when_it_is_back(
    sessions: sessionmaker[Session],
    server: EventsServer,
    register: Callable[[EventsServer], uuid.UUID],
    listen: Callable[[uuid.UUID], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera_id = register(server)
    queue = listen(camera_id)
    caplog.set_level(logging.WARNING, logger="hub.events")
    broker = BrokerSwitch()  # off: the broker is down when the intake starts
    started = time.monotonic()

    def outage_then_recovery() -> bool:
        rows = stored(sessions, camera_id)
        if not broker.is_on and len(rows) >= 2 and time.monotonic() - started > 1:
            assert all(row.published_at is None for row in rows)  # kept, not lost
            broker.on()
        return broker.is_on and all(row.published_at is not None for row in rows)

    try:
        run_intake(
            context(sessions, broker=f"amqp://guest:guest@127.0.0.1:{broker.port}//"),
            outage_then_recovery,
        )
    finally:
        broker.off()

    rows = stored(sessions, camera_id)
    assert len(rows) == 2 and all(row.published_at is not None for row in rows)
    assert {m.payload["id"] for m in drain(queue, 2)} == {str(row.id) for row in rows}
    assert caplog.text.count("cannot publish events") == 1  # once per outage, not per retry
    assert caplog.text.count("publishing events again") == 1


def test_c4hub_events_run_stops_on_sigterm_after_unsubscribing(
    sessions: sessionmaker[Session],
    server: EventsServer,
    register: Callable[[EventsServer], uuid.UUID],
    tmp_path: Path,
) -> None:
    camera_id = register(server)
    env = {
        **os.environ,
        "C4HUB_DATABASE_URL": _url(sessions),
        "C4HUB_SECRET_KEY": KEY,
        "C4HUB_DATA_DIR": str(tmp_path),
        "C4HUB_BROKER_URL": BROKER,
        "C4HUB_EVENTS_TIMEOUT_S": "2",
    }
    log = tmp_path / "events.log"
    command = [str(Path(sys.executable).parent / "c4hub"), "events", "run", "--reload-s", "1"]
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while len(stored(sessions, camera_id)) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()

    text = log.read_text()
    assert code == 0, text
    assert len(stored(sessions, camera_id)) == 2
    assert server.operations()[-1] == "Unsubscribe"
    assert "events intake stopped" in text
    assert PASSWORD not in text


def test_c4hub_events_tail_prints_a_cameras_published_events(
    sessions: sessionmaker[Session],
    server: EventsServer,
    register: Callable[[EventsServer], uuid.UUID],
) -> None:
    camera_id = register(server)
    command = [str(Path(sys.executable).parent / "c4hub"), "events", "tail", str(camera_id)]
    env = {**os.environ, "C4HUB_BROKER_URL": BROKER}
    proc = subprocess.Popen(
        [*command, "--count", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    publisher = EventPublisher(sessions, BROKER)
    try:
        # Publish until tail has bound its queue and taken one (it exits after --count 1).
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:
            event = NormalizedEvent(
                camera_id=camera_id,
                kind=EventKind.LINE_CROSSING,
                occurred_at="2026-11-21T05:30:00Z",
                source="onvif",
                topic="tns1:RuleEngine/LineDetector/Crossed",
            )
            with session_scope(sessions) as session:
                service.store_events(session, [event])
            publisher.publish_pending()
            time.sleep(0.3)
        out, err = proc.communicate(timeout=10)
    finally:
        publisher.close()
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 0, err
    printed = CameraEvent.model_validate_json(out.decode().strip())
    assert printed.camera_id == camera_id and printed.kind is EventKind.LINE_CROSSING
