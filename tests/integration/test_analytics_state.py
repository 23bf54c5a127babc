"""A camera's analysis carried from one segment to the next through PostgreSQL, on the shop video
with the real detector and tracker: a loiterer standing across a boundary, the missing-object
reference armed through the API, and what starts afresh (changed settings, a gap in the stream,
a state that does not load).

What the footage shows (see test_analytics_rules_footage.py): the second person comes to the
table at about 24 s, stands there (feet at x 0.55-0.65, y 0.85-0.95) until about 44 s, then walks
off to the right; nobody else is in the picture from 20 s to 50 s.
"""

import pickle
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import ColorFrame, Target
from hub.analytics import state
from hub.analytics.context import AnalyticsContext, FrameSource
from hub.analytics.evidence import EvidenceStore
from hub.analytics.models import AnalyticsState, CameraAnalytics
from hub.analytics.segments import SegmentReport, run_segment
from hub.analytics.service import request_reference
from hub.events.models import CameraEventRow
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from hub.settings import get_settings
from schemas.analytics import AnalyticsSettings, Box, ObjectClass, TrackedObject
from schemas.camera import CameraCreate
from schemas.events import EventKind
from tests.integration.analytics_video import PEOPLE, frames_of, settings
from tests.support import migration_differences

Headers = dict[str, str]
FPS = 5.0
TABLE = [[0.45, 0.8], [0.75, 0.8], [0.75, 0.97], [0.45, 0.97]]
# The reference is asked for at this point of the video: 10 s later (stationary_s) the second
# person has stood at the table for about 13 s.
REQUEST_AT_S = 27.0
RESUME_S = 30.0


def shop(dwell_s: float = 15.0) -> AnalyticsSettings:
    zone = {"id": "table", "polygon": TABLE, "dwell_s": dwell_s, "missing_after_s": 3}
    return settings(fps=FPS, classes=["person"], zones=[zone])


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def shop_camera(
    session: Session, box: CredentialBox, make_org: Callable[..., Organization]
) -> Callable[[AnalyticsSettings], Camera]:
    def make(config: AnalyticsSettings) -> Camera:
        data = {
            "location": {"type": "Point", "coordinates": [127.05, 37.5]},
            "adapter": "rtsp",
            "stream_uri": "rtsp://127.0.0.1:1/shop",
        }
        camera = create_camera(session, box, CameraCreate.model_validate(data), make_org().id)
        session.add(CameraAnalytics(camera_id=camera.id, settings=config.model_dump(mode="json")))
        session.commit()
        return camera

    return make


def served(start_s: float, until_s: float, stamp: Callable[[float], float]) -> FrameSource:
    """The shop video from `start_s` to `until_s` whatever the segment asks for, each frame
    stamped `stamp(its time in the video)`: one stream cut into segments."""

    def source(target: Target, fps: float, seconds: float) -> Iterator[tuple[float, ColorFrame]]:
        for at, frame in frames_of(PEOPLE, fps, until_s):
            if start_s <= at < until_s:
                yield stamp(at), frame

    return source


class Shop:
    """Segments of one camera's stream, run as the analytics task runs them."""

    def __init__(
        self,
        camera_id: UUID,
        sessions: sessionmaker[Session],
        box: CredentialBox,
        root: Path,
        base: float,
    ) -> None:
        self.camera_id, self.base = camera_id, base
        self.ctx = AnalyticsContext(
            sessions=sessions,
            box=box,
            models_dir=get_settings().models_dir,
            data_dir=root,
            evidence=EvidenceStore(root / "evidence"),
        )

    def segment(self, start_s: float, until_s: float, gap_s: float = 0.0) -> SegmentReport:
        """The video from `start_s` to `until_s`, delayed by `gap_s` (an outage before it)."""
        source = served(start_s, until_s, lambda at: self.base + gap_s + at)
        report = run_segment(
            self.camera_id,
            until_s - start_s,
            replace(self.ctx, source=source),
            lambda sighting: None,
            resume_s=RESUME_S,
        )
        assert report.error_code is None and report.frames >= (until_s - start_s) * FPS - 1
        return report

    def video_s(self, at: datetime) -> float:
        return at.timestamp() - self.base


def table_events(session: Session, camera_id: UUID, kind: EventKind) -> list[CameraEventRow]:
    rows = session.scalars(
        select(CameraEventRow)
        .where(CameraEventRow.camera_id == camera_id, CameraEventRow.kind == kind)
        .order_by(CameraEventRow.occurred_at)
    ).all()
    return [row for row in rows if row.subject.get("zone") == "table"]


def entries(session: Session, camera_id: UUID) -> list[CameraEventRow]:
    return [e for e in table_events(session, camera_id, EventKind.INTRUSION) if e.active]


def saved_state(session: Session, camera_id: UUID) -> state.Carried:
    row = session.get_one(AnalyticsState, camera_id, populate_existing=True)
    assert row.state is not None and row.state.startswith(state.FORMAT)
    carried = pickle.loads(row.state[len(state.FORMAT) :])
    assert isinstance(carried, state.Carried)
    return carried


def arm(client: TestClient, admin: Headers, camera_id: UUID) -> float:
    """Ask for a reference through the API; the base stamp that puts the request at
    REQUEST_AT_S into the video."""
    response = client.post(f"/api/v1/cameras/{camera_id}/analytics/reference", headers=admin)
    assert response.status_code == 202, response.text
    return datetime.fromisoformat(response.json()["requested_at"]).timestamp() - REQUEST_AT_S


@pytest.mark.slow
def test_a_loiterer_and_a_missing_object_are_found_across_segments(
    client: TestClient,
    admin: Headers,
    shop_camera: Callable[[AnalyticsSettings], Camera],
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    tmp_path: Path,
) -> None:
    camera = shop_camera(shop())
    url = f"/api/v1/cameras/{camera.id}/analytics/reference"
    run = Shop(camera.id, sessions, box, tmp_path, arm(client, admin, camera.id))
    run.segment(0.0, 30.0)
    assert client.get(url, headers=admin).json()["pending"] is True  # not due before 37 s
    run.segment(30.0, 42.0)
    # Loitering: he came at about 24 s, in the first segment, and is reported once, in the
    # second, with his whole dwell time; no second entry for him at the boundary.
    [loitering] = table_events(session, camera.id, EventKind.LOITERING)
    second = loitering.subject["track"]
    assert 37.0 <= run.video_s(loitering.occurred_at) <= 43.0
    assert float(loitering.data["dwell_s"]) > 15.0
    assert [run.video_s(e.occurred_at) < 30.0 for e in entries(session, camera.id)] == [
        True,  # the first person, at about 7 s
        True,  # the second, at about 24 s
    ]
    assert entries(session, camera.id)[1].subject["track"] == second
    # The reference: taken 10 s after the request, the first segment's history counting (a
    # fresh start at 30 s would have waited until 40 s), while he stands at the table.
    body = client.get(url, headers=admin).json()
    assert body["pending"] is False and body["requested_at"] is None
    [reference] = body["references"]
    assert (reference["zone_id"], str(reference["track_id"])) == ("table", second)
    assert reference["object_class"] == "person"
    assert 37.0 <= run.video_s(datetime.fromisoformat(reference["taken_at"])) < 37.0 + 1 / FPS
    foot_x = reference["box"]["x"] + reference["box"]["w"] / 2
    assert 0.5 <= foot_x <= 0.7
    run.segment(42.0, 50.0)
    # Missing: he walks off at about 44 s; over 3 s later, once, naming the reference.
    [missing] = table_events(session, camera.id, EventKind.MISSING_OBJECT)
    assert missing.subject == {"zone": "table", "track": second}
    last_seen = run.video_s(datetime.fromisoformat(missing.data["last_seen"]))
    assert 42.0 <= last_seen < run.video_s(missing.occurred_at) - 3.0 <= 47.0
    assert client.get(url, headers=admin).json()["references"] == []
    assert len(table_events(session, camera.id, EventKind.LOITERING)) == 1


@pytest.mark.slow
def test_after_a_gap_in_the_stream_the_analysis_starts_afresh_keeping_the_reference(
    client: TestClient,
    admin: Headers,
    shop_camera: Callable[[AnalyticsSettings], Camera],
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    tmp_path: Path,
) -> None:
    camera = shop_camera(shop())
    run = Shop(camera.id, sessions, box, tmp_path, arm(client, admin, camera.id))
    run.segment(20.0, 40.0)  # the reference is taken at 37 s, while he stands there
    [reference] = saved_state(session, camera.id).rules.references()
    # The stream is down for 36 s (over RESUME_S); when it comes back he has gone.
    run.segment(46.0, 50.0, gap_s=30.0)
    carried = saved_state(session, camera.id)
    assert run.video_s(carried.watching_since) == pytest.approx(76.0, abs=0.3)  # afresh
    [missing] = table_events(session, camera.id, EventKind.MISSING_OBJECT)
    assert missing.subject == {"zone": "table", "track": str(reference.track_id)}
    # Reported on the first frame back, counted from when he was last seen before the gap.
    assert run.video_s(missing.occurred_at) == pytest.approx(76.0, abs=0.3)
    last_seen = run.video_s(datetime.fromisoformat(missing.data["last_seen"]))
    assert 39.0 <= last_seen < 40.0


@pytest.mark.slow
def test_changed_settings_between_segments_start_afresh(
    shop_camera: Callable[[AnalyticsSettings], Camera],
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    tmp_path: Path,
) -> None:
    camera = shop_camera(shop())
    run = Shop(camera.id, sessions, box, tmp_path, 1.8e9)
    run.segment(20.0, 32.0)
    assert len(entries(session, camera.id)) == 1  # the second person, at about 24 s
    session.execute(
        update(CameraAnalytics)
        .where(CameraAnalytics.camera_id == camera.id)
        .values(settings=shop(dwell_s=20.0).model_dump(mode="json"))
    )
    session.commit()
    run.segment(32.0, 35.0)
    # A fresh engine: he "enters" again on the first frame of the new settings.
    again = entries(session, camera.id)
    assert len(again) == 2 and 32.0 <= run.video_s(again[1].occurred_at) < 33.0


@pytest.mark.slow
def test_a_saved_state_that_does_not_load_starts_afresh_and_the_segment_runs(
    shop_camera: Callable[[AnalyticsSettings], Camera],
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    tmp_path: Path,
) -> None:
    camera = shop_camera(shop())
    run = Shop(camera.id, sessions, box, tmp_path, 1.8e9)
    run.segment(20.0, 30.0)
    session.execute(
        update(AnalyticsState)
        .where(AnalyticsState.camera_id == camera.id)
        .values(state=state.FORMAT + b"\x80\x05 damaged")
    )
    session.commit()
    report = run.segment(30.0, 33.0)
    assert report.frames == 15
    again = entries(session, camera.id)
    assert len(again) == 2 and 30.0 <= run.video_s(again[1].occurred_at) < 31.0
    carried = saved_state(session, camera.id)  # and a good state is saved again
    assert run.video_s(carried.watching_since) == pytest.approx(30.0, abs=0.3)


# --- the table, without video -------------------------------------------------------------------


def test_the_migration_matches_the_model(engine: Engine) -> None:
    assert migration_differences(engine, "camera_analytics_state") == []


def test_saving_clears_the_request_it_took_but_not_a_newer_one(
    shop_camera: Callable[[AnalyticsSettings], Camera], session: Session
) -> None:
    camera = shop_camera(shop())
    first = request_reference(session, camera.id)
    carried = state.fresh(camera.id, shop(), (127.05, 37.5), datetime.now(UTC))
    newer = request_reference(session, camera.id)  # asked again while the segment ran
    state.save(session, camera.id, shop(), carried, first)
    loaded = state.load(session, camera.id)
    assert loaded is not None and loaded.requested_at == newer
    state.save(session, camera.id, shop(), carried, newer)
    loaded = state.load(session, camera.id)
    assert loaded is not None and loaded.requested_at is None


def test_the_references_are_listed_only_under_the_settings_they_were_taken_with(
    client: TestClient,
    admin: Headers,
    shop_camera: Callable[[AnalyticsSettings], Camera],
    session: Session,
) -> None:
    camera = shop_camera(shop())
    start = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    carried = state.fresh(camera.id, shop(), (127.05, 37.5), start)
    person = TrackedObject(
        track_id=4,
        object_class=ObjectClass.PERSON,
        confidence=0.9,
        box=Box(x=0.55, y=0.7, w=0.1, h=0.2),  # foot (0.6, 0.9): at the table
    )
    for second in range(12):
        carried.rules.step(start + timedelta(seconds=second), [person])
    assert len(carried.rules.take_reference()) == 1
    state.save(session, camera.id, shop(), carried, None)
    url = f"/api/v1/cameras/{camera.id}/analytics/reference"
    body = client.get(url, headers=admin).json()
    assert body["references"] == [
        {
            "zone_id": "table",
            "track_id": 4,
            "object_class": "person",
            "box": {"x": 0.55, "y": 0.7, "w": 0.1, "h": 0.2},
            "taken_at": "2026-11-21T08:00:11Z",
        }
    ]
    changed = shop(dwell_s=20.0).model_dump(mode="json")
    assert client.put(url.removesuffix("/reference"), json=changed, headers=admin).is_success
    assert client.get(url, headers=admin).json()["references"] == []
