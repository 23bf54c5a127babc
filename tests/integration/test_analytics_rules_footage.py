"""Loitering, crowding and missing objects on the shared shop video, through the real detector,
tracker, rules and evidence store.

What the footage shows (yolox_nano at 5 fps, looked at frame by frame): six people come in one
at a time from the bottom edge, stand at a small table (their feet at about x 0.55-0.65,
y 0.85-0.95 of the frame) for 9 to 25 s, then walk off to the right. In the first 50 s the first
person stands there from about 7 s to 19 s, the second from about 24 s to 44 s, and the third
walks in at about 51 s. There is never more than one person in the picture. The car park video
is no use here: filmed from above, the detector follows at most one car, for about 1.5 s.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from uuid import UUID, uuid4

import numpy as np
import pytest

from adapters.base import ColorFrame
from hub.analytics.evidence import EvidenceStore
from hub.analytics.pipeline import Pipeline
from hub.analytics.rules import ReferenceObject, RuleEngine
from schemas.analytics import AnalyticsSettings, TrackedObject, Zone
from schemas.events import EventKind, NormalizedEvent
from tests.integration.analytics_video import PEOPLE, POSITION, frames_of, pipeline_for, settings

FPS = 5.0
START = datetime.fromtimestamp(1.8e9, UTC)  # the wall time of the video's first frame
WHOLE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
# Where people stand at the table; their feet at the bottom edge (walking in) are outside.
TABLE = [[0.45, 0.8], [0.75, 0.8], [0.75, 0.97], [0.45, 0.97]]
# The right-hand strip people cross on their way out without stopping.
WALKWAY = [[0.8, 0.7], [1.0, 0.7], [1.0, 1.0], [0.8, 1.0]]
SHOP_UNTIL_S = 50.0  # the first two people; the third walks in at about 51 s
REFERENCE_AT_S = 40.0  # the second person has stood at the table for about 15 s
Frames = list[tuple[float, list[TrackedObject]]]


@dataclass(frozen=True)
class Run:
    camera_id: UUID
    frames: Frames  # (seconds into the video, the tracked objects)
    events: list[NormalizedEvent]
    evidence: EvidenceStore


def video_s(event: NormalizedEvent) -> float:
    return (event.occurred_at - START).total_seconds()


def of(events: list[NormalizedEvent], kind: EventKind, zone: str) -> list[NormalizedEvent]:
    return [e for e in events if e.kind is kind and e.subject.get("zone") == zone]


def analyse(
    pipeline: Pipeline,
    frames: Iterator[tuple[float, ColorFrame]],
    at_reference: RuleEngine | None = None,
) -> tuple[Frames, list[NormalizedEvent]]:
    """Feed the frames; takes the engine's reference on the first frame from REFERENCE_AT_S."""
    seen: Frames = []
    events: list[NormalizedEvent] = []
    for at, frame in frames:
        outcome = pipeline.process(START + timedelta(seconds=at), frame)
        seen.append((at, outcome.objects))
        events += outcome.events
        if at_reference is not None and at >= REFERENCE_AT_S:
            at_reference.take_reference()
            at_reference = None
    return seen, events


def shop_config() -> AnalyticsSettings:
    return settings(
        fps=FPS,
        classes=["person"],
        zones=[
            {"id": "table", "polygon": TABLE, "dwell_s": 15, "missing_after_s": 3},
            {"id": "walkway", "polygon": WALKWAY, "dwell_s": 3},
            {"id": "floor", "polygon": WHOLE, "max_count": 1},
        ],
    )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The first 50 s of the shop video, the reference taken at 40 s."""
    camera_id, config = uuid4(), shop_config()
    store = EvidenceStore(tmp_path_factory.mktemp("evidence"))
    engine = RuleEngine(camera_id, list(config.zones), [], POSITION)

    def evidence(at: datetime, frame: ColorFrame) -> str:
        return store.put(camera_id, at, frame, "event")

    pipeline = pipeline_for(camera_id, config, engine, evidence)
    frames, events = analyse(pipeline, frames_of(PEOPLE, FPS, SHOP_UNTIL_S), engine)
    return Run(camera_id, frames, events, store)


def only_track_at(frames: Frames, seconds: float) -> int:
    """The id of the one person in the frame nearest `seconds`."""
    _, objects = min(frames, key=lambda pair: abs(pair[0] - seconds))
    assert len(objects) == 1, objects
    return objects[0].track_id


def last_seen_s(frames: Frames, track_id: int) -> float:
    return max(at for at, objects in frames if any(o.track_id == track_id for o in objects))


@pytest.mark.slow
def test_only_the_person_who_stands_at_the_table_past_the_dwell_time_loiters(shop: Run) -> None:
    first, second = only_track_at(shop.frames, 12.0), only_track_at(shop.frames, 35.0)
    assert first != second
    loitering = of(shop.events, EventKind.LOITERING, "table")
    assert [e.subject["track"] for e in loitering] == [str(second)]
    # The second person reached the table at about 24 s: 15 s later he is loitering.
    assert 37.0 <= video_s(loitering[0]) <= 43.0
    assert float(loitering[0].data["dwell_s"]) > 15
    # The first one stood there too, but left before the dwell time.
    left = of(shop.events, EventKind.INTRUSION, "table")
    visits = {e.subject["track"]: e.data["dwell_s"] for e in left if e.active is False}
    assert 8.0 <= float(visits[str(first)]) < 15.0


@pytest.mark.slow
def test_nobody_loiters_where_people_only_walk_through(shop: Run) -> None:
    entered = [e for e in of(shop.events, EventKind.INTRUSION, "walkway") if e.active]
    assert len({e.subject["track"] for e in entered}) == 2  # both walked out across it
    assert of(shop.events, EventKind.LOITERING, "walkway") == []


@pytest.mark.slow
def test_one_person_at_a_time_never_crowds_a_zone_that_allows_one(shop: Run) -> None:
    assert max(len(objects) for _, objects in shop.frames) == 1
    entered = [e for e in of(shop.events, EventKind.INTRUSION, "floor") if e.active]
    assert len(entered) == 2  # the zone did count them, one after the other
    assert of(shop.events, EventKind.CROWDING, "floor") == []


@pytest.mark.slow
def test_a_person_standing_at_the_reference_time_is_missing_once_he_has_walked_off(
    shop: Run,
) -> None:
    second = only_track_at(shop.frames, REFERENCE_AT_S)
    gone_at = last_seen_s(shop.frames, second)
    assert 42.0 <= gone_at <= 47.0  # he walks off to the right at about 44 s
    missing = [e for e in shop.events if e.kind is EventKind.MISSING_OBJECT]
    assert [(e.subject, e.data["class"]) for e in missing] == [
        ({"zone": "table", "track": str(second)}, "person")
    ]
    # Not while he is still in the picture: only once he has been away from the table for
    # over 3 s (he leaves the picture within a second of leaving the table).
    last_present = datetime.fromisoformat(str(missing[0].data["last_seen"]))
    at_table_until = (last_present - START).total_seconds()
    assert REFERENCE_AT_S < at_table_until <= gone_at < video_s(missing[0])
    assert at_table_until + 3.0 < video_s(missing[0]) <= at_table_until + 4.0


def replay(frames: Frames, zone: Zone, reference_at: float) -> list[ReferenceObject]:
    """The recorded tracks through a new engine up to `reference_at`; what it takes then."""
    engine = RuleEngine(uuid4(), [zone], [])
    for at, objects in frames:
        if at > reference_at:
            break
        engine.step(START + timedelta(seconds=at), objects)
    return engine.take_reference()


@pytest.mark.slow
def test_only_someone_who_has_stood_still_for_stationary_s_becomes_a_reference(
    shop: Run,
) -> None:
    table = shop_config().zones[0]
    second = only_track_at(shop.frames, 39.0)
    assert replay(shop.frames, table, 21.0) == []  # the first person has just left
    assert replay(shop.frames, table, 27.0) == []  # the second has stood there for ~3 s
    assert [(r.zone_id, r.track_id) for r in replay(shop.frames, table, 39.0)] == [
        ("table", second)
    ]


@pytest.mark.slow
def test_every_event_carries_camera_time_class_track_position_and_snapshot(shop: Run) -> None:
    kinds = {e.kind for e in shop.events}
    assert kinds == {EventKind.INTRUSION, EventKind.LOITERING, EventKind.MISSING_OBJECT}
    for event in shop.events:
        assert event.camera_id == shop.camera_id
        assert 0.0 <= video_s(event) <= SHOP_UNTIL_S
        assert event.data["class"] == "person"
        assert event.subject["track"].isdigit()
        assert (event.data["lon"], event.data["lat"]) == POSITION
        snapshot = shop.evidence.path(str(event.data["snapshot"]))
        assert snapshot.read_bytes()[:2] == b"\xff\xd8"  # a JPEG of the frame


# --- crowding -------------------------------------------------------------------------------


def stacked(video: Path, later_by_s: float, until: float) -> Iterator[tuple[float, ColorFrame]]:
    """Each frame of the video with the frame `later_by_s` later below it: one picture that
    shows two people whenever both moments have one."""
    later = islice(frames_of(video, FPS), round(later_by_s * FPS), None)
    for (at, top), (_, bottom) in zip(frames_of(video, FPS, until), later, strict=False):
        yield at, np.vstack([top, bottom])


@pytest.mark.slow
def test_two_people_at_once_crowd_a_zone_that_allows_one_until_one_leaves(
    tmp_path: Path,
) -> None:
    # The footage never shows two people at once, so the picture is built from its real
    # frames: the top half at t, the bottom at t + 15 s. The top shows the first person from
    # about 7 s to 19 s; the bottom the second from about 8 s (23 s in the video) on.
    camera_id = uuid4()
    zones = [
        {"id": "floor", "polygon": WHOLE, "max_count": 1},
        {"id": "roomy", "polygon": WHOLE, "max_count": 2},
    ]
    config = settings(fps=FPS, classes=["person"], zones=zones)
    store = EvidenceStore(tmp_path)

    def evidence(at: datetime, frame: ColorFrame) -> str:
        return store.put(camera_id, at, frame, "event")

    pipeline = pipeline_for(camera_id, config, evidence=evidence)
    frames, events = analyse(pipeline, stacked(PEOPLE, 15.0, 22.0))
    assert max(len(objects) for _, objects in frames) == 2
    crowding = of(events, EventKind.CROWDING, "floor")
    assert [(e.active, e.data["count"], e.data["max_count"]) for e in crowding] == [
        (True, 2, 1),
        (False, 1, 1),
    ]
    started, ended = (video_s(e) for e in crowding)
    assert 7.0 <= started <= 11.0 and 19.0 <= ended <= 22.0
    assert of(events, EventKind.CROWDING, "roomy") == []
    for event in crowding:
        assert "track" not in event.subject and event.camera_id == camera_id
        assert (event.data["lon"], event.data["lat"]) == POSITION
        assert store.path(str(event.data["snapshot"])).read_bytes()[:2] == b"\xff\xd8"
