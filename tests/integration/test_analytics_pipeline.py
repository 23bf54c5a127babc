"""The analysis pipeline on the shared videos with the real detector, tracker and rules: people
crossing a line counted with direction, cars followed with stable ids, class and colour; and
one segment read from a live RTSP stream stores its events in the database."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import ColorFrame, Target, Timeout
from hub.analytics.context import AnalyticsContext, FrameSource
from hub.analytics.evidence import EvidenceStore
from hub.analytics.models import CameraAnalytics
from hub.analytics.pipeline import Pipeline, VehicleSighting
from hub.analytics.segments import run_segment
from hub.events.models import CameraEventRow
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from hub.settings import get_settings
from schemas.analytics import AnalyticsSettings, Colour, Direction, ObjectClass
from schemas.camera import CameraCreate
from schemas.events import EventKind, NormalizedEvent
from tests.fixtures.rtsp_server import rtsp_server
from tests.integration.analytics_video import CARS, PEOPLE, frames_of, pipeline_for, settings

# People walk left to right across the shop floor; this line stands in their way.
EXIT_LINE = {"id": "exit", "start": [0.75, 1.0], "end": [0.75, 0.5], "forward_name": "leaving"}


def run(
    pipeline: Pipeline, video: Path, fps: float, start: float = 1.8e9
) -> tuple[list[NormalizedEvent], list[VehicleSighting], dict[int, int]]:
    events: list[NormalizedEvent] = []
    finished: list[VehicleSighting] = []
    seen: dict[int, int] = {}
    for at, frame in frames_of(video, fps):
        outcome = pipeline.process(datetime.fromtimestamp(start + at, UTC), frame)
        events += outcome.events
        finished += outcome.finished
        for obj in outcome.objects:
            seen[obj.track_id] = seen.get(obj.track_id, 0) + 1
    return events, finished + pipeline.finish(), seen


@pytest.mark.slow
def test_people_crossing_a_line_are_counted_once_each_with_their_direction() -> None:
    camera_id = uuid.uuid4()
    config = settings(fps=5.0, classes=["person"], lines=[EXIT_LINE])
    events, _, _ = run(pipeline_for(camera_id, config), PEOPLE, 5.0)
    crossings = [e for e in events if e.kind is EventKind.LINE_CROSSING]
    assert len(crossings) == 6  # six people walk through, one at a time
    assert {e.data["direction"] for e in crossings} == {Direction.FORWARD.value}
    assert {e.data["class"] for e in crossings} == {"person"}
    assert len({e.subject["track"] for e in crossings}) == 6
    assert all(e.camera_id == camera_id and e.data["lon"] == 127.05 for e in crossings)


@pytest.mark.slow
def test_a_car_is_followed_with_a_stable_id_and_reported_with_its_class_and_colour() -> None:
    # Filmed from above, the shared video's cars are hard for a small COCO model: at 0.35
    # confidence yolox_nano sees the red saloon crossing (frames 215-235), at the full rate.
    config = settings(fps=12.5, classes=["car", "bus", "truck"], vehicle_attributes=True)
    _, vehicles, seen = run(pipeline_for(uuid.uuid4(), config), CARS, 12.5)
    assert max(seen.values()) >= 15, seen  # one id for 15 frames (1.2 s) or more
    assert len(seen) <= 6, seen  # ids do not multiply
    followed = [v for v in vehicles if seen[v.track_id] >= 15]
    assert followed and all(v.crops for v in followed)
    assert {v.colour for v in followed} == {Colour.RED}
    assert {v.object_class for v in followed} <= {ObjectClass.CAR, ObjectClass.BUS}


def test_a_frame_of_the_wrong_shape_is_refused() -> None:
    pipeline = pipeline_for(uuid.uuid4(), settings())
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        pipeline.process(datetime.now(UTC), np.zeros((48, 64), dtype=np.uint8))


# --- one segment from a live RTSP stream into the database -------------------------------------


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def road_camera(
    session: Session, box: CredentialBox, make_org: Callable[..., Organization]
) -> Callable[..., Camera]:
    """A committed RTSP camera at `uri`, with `config` as its analytics when given."""

    def make(uri: str, config: AnalyticsSettings | None = None) -> Camera:
        data = {
            "location": {"type": "Point", "coordinates": [127.05, 37.5]},
            "adapter": "rtsp",
            "stream_uri": uri,
        }
        camera = create_camera(session, box, CameraCreate.model_validate(data), make_org().id)
        if config is not None:
            session.add(
                CameraAnalytics(camera_id=camera.id, settings=config.model_dump(mode="json"))
            )
        session.commit()
        return camera

    return make


def context(
    sessions: sessionmaker[Session], box: CredentialBox, root: Path, source: FrameSource | None
) -> AnalyticsContext:
    ctx = AnalyticsContext(
        sessions=sessions,
        box=box,
        models_dir=get_settings().models_dir,
        data_dir=root,
        evidence=EvidenceStore(root / "evidence"),
    )
    return ctx if source is None else replace(ctx, source=source)


@pytest.fixture
def people_stream() -> Iterator[str]:
    with rtsp_server({"/people": PEOPLE}) as base:
        yield f"{base}/people"


@pytest.mark.slow
def test_a_segment_of_a_live_stream_stores_its_crossings(
    people_stream: str,
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    road_camera: Callable[..., Camera],
    tmp_path: Path,
) -> None:
    config = settings(fps=5.0, classes=["person"], lines=[EXIT_LINE])
    camera = road_camera(people_stream, config)
    ctx = context(sessions, box, tmp_path, None)
    # The first person crosses the line about 14 s into the video.
    report = run_segment(camera.id, 20.0, ctx, lambda sighting: None)
    assert report.error_code is None and report.frames >= 80
    stored = session.scalars(
        select(CameraEventRow).where(CameraEventRow.camera_id == camera.id)
    ).all()
    crossings = [e for e in stored if e.kind is EventKind.LINE_CROSSING]
    assert len(crossings) == 1 and crossings[0].data["direction"] == "forward"
    snapshot = crossings[0].data["snapshot"]
    assert (tmp_path / "evidence" / snapshot).read_bytes()[:2] == b"\xff\xd8"


def test_a_camera_not_enabled_is_not_analysed(
    sessions: sessionmaker[Session],
    box: CredentialBox,
    road_camera: Callable[..., Camera],
    tmp_path: Path,
) -> None:
    camera = road_camera("rtsp://127.0.0.1:1/x")
    ctx = context(sessions, box, tmp_path, lambda target, fps, seconds: iter(()))
    report = run_segment(camera.id, 1.0, ctx, lambda sighting: None)
    assert report.error_code == "not_enabled" and report.frames == 0


def test_a_stream_that_drops_mid_analysis_ends_the_segment_cleanly(
    sessions: sessionmaker[Session],
    box: CredentialBox,
    road_camera: Callable[..., Camera],
    tmp_path: Path,
) -> None:
    camera = road_camera("rtsp://127.0.0.1:1/x", settings())

    def dropping(target: Target, fps: float, seconds: float) -> Iterator[tuple[float, ColorFrame]]:
        for at, frame in frames_of(PEOPLE, 5.0):
            if at > 1.0:
                raise Timeout("RTSP rtsp://127.0.0.1:1/x: frames did not arrive in time")
            yield 1.8e9 + at, frame

    ctx = context(sessions, box, tmp_path, dropping)
    report = run_segment(camera.id, 10.0, ctx, lambda sighting: None)
    assert report.error_code == "timeout" and report.frames == 6
