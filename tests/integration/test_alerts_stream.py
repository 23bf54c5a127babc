"""GET /api/v1/alerts/stream on a live node: Server-Sent Events for every new alert and state
change (PostgreSQL NOTIFY from the alerts trigger), keep-alive comments, the token in the
header or `?access_token=` (on this route only), operators only."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts import stream
from hub.auth.service import create_token
from hub.db import session_scope
from hub.hotlists import service
from hub.plates import store
from hub.registry import organizations
from hub.registry.cameras import create_camera
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.analytics import PlateRead
from schemas.camera import CameraCreate
from schemas.enums import OrganizationKind, Role
from schemas.hotlists import AlertOut, HotlistEntryCreate
from schemas.organization import OrganizationCreate
from tests.support import fresh_database, live_node


@dataclass
class Live:
    url: str
    sessions: sessionmaker[Session]
    camera_id: uuid.UUID
    operator: str
    business: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    key = Fernet.generate_key().decode()
    with fresh_database() as url:
        engine = create_engine(url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        with session_scope(sessions) as session:
            org = organizations.create_organization(
                session,
                OrganizationCreate(slug="fge", name="FGE", kind=OrganizationKind.PRIVATE_BUSINESS),
            )
            data = CameraCreate.model_validate(
                {"name": "Periférico", "location": {"type": "Point", "coordinates": [-101.0, 25.4]}}
            )
            camera = create_camera(session, CredentialBox(key), data, org.id)
            entry = {"plate": "FRS4821", "category": "stolen", "reason": "robo",
                     "legal_basis": "CNPP art. 251", "source": "fge"}  # fmt: skip
            service.create_entry(session, HotlistEntryCreate.model_validate(entry))
            operator = create_token(session, Role.OPERATOR, None)
            business = create_token(session, Role.BUSINESS, org.id)
        settings = Settings(
            database_url=url, data_dir=tmp_path_factory.mktemp("node"), secret_key=key
        )
        try:
            with live_node(settings) as base:
                yield Live(base, sessions, camera.id, operator, business)
        finally:
            engine.dispose()


@pytest.fixture(autouse=True)
def quick_keepalive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "KEEPALIVE_S", 0.5)


def _raise(live: Live) -> uuid.UUID:
    read = PlateRead(
        id=uuid.uuid4(),
        camera_id=live.camera_id,
        read_at=datetime.now(UTC),
        plate="FRS4821",
        confidence=0.9,
    )
    with session_scope(live.sessions) as session:
        [alert] = store.store_read(session, read).alerts
        return alert.id


class Events:
    """The stream's events and comments, read line by line."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines

    def next(self) -> dict[str, str]:
        """The next event or comment as its fields (a comment under ':')."""
        fields: dict[str, str] = {}
        for line in self.lines:
            if not line:
                return fields
            name, _, value = line.partition(":")
            fields[name] = value.strip()
        raise AssertionError("the stream ended")

    def next_alert(self) -> tuple[str, AlertOut]:
        while True:
            fields = self.next()
            if fields.get("event") == "alert":
                return fields["id"], AlertOut.model_validate_json(fields["data"])


def test_new_alerts_and_state_changes_arrive_as_events(live: Live) -> None:
    params = {"access_token": live.operator}
    with (
        httpx.Client(base_url=live.url, timeout=10) as http,
        http.stream("GET", "/api/v1/alerts/stream", params=params) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = Events(response.iter_lines())
        assert events.next() == {"": "listening"}  # LISTEN is on: nothing from now is missed
        alert_id = _raise(live)
        event_id, alert = events.next_alert()
        assert (event_id, alert.id, alert.state.value) == (str(alert_id), alert_id, "open")
        assert (alert.plate, alert.camera_name) == ("FRS4821", "Periférico")
        headers = {"Authorization": f"Bearer {live.operator}"}
        r = http.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
        assert r.status_code == 200
        _, acknowledged = events.next_alert()
        assert (acknowledged.id, acknowledged.state.value) == (alert_id, "acknowledged")
        # with nothing happening, comments keep the connection open
        assert events.next() == {"": "keep-alive"}


def test_the_header_token_works_and_the_query_token_only_on_the_stream(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as http:
        headers = {"Authorization": f"Bearer {live.operator}"}
        with http.stream("GET", "/api/v1/alerts/stream", headers=headers) as response:
            assert response.status_code == 200
            assert Events(response.iter_lines()).next() == {"": "listening"}
        elsewhere = http.get("/api/v1/alerts", params={"access_token": live.operator})
        assert elsewhere.status_code == 401


def test_businesses_and_strangers_are_refused(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as http:
        for params, status in (
            ({"access_token": live.business}, 403),
            ({"access_token": "not-a-token"}, 401),
            ({}, 401),
        ):
            r = http.get("/api/v1/alerts/stream", params=params)
            assert r.status_code == status
            assert r.headers["content-type"] == "application/problem+json"


def test_listen_url_is_libpq_with_the_password() -> None:
    engine = create_engine("postgresql+psycopg://c4:s3cret@db.example:5433/c4hub")
    assert stream.listen_url(engine) == "postgresql://c4:s3cret@db.example:5433/c4hub"
