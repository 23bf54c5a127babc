"""`Pipeline.stream` on synthetic frames with a fake detector: the same outcomes as `process`
frame by frame, the model steps off the caller's thread, errors in their place, and a closed
stream leaves no thread behind."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import numpy as np
import numpy.typing as npt
import pytest

from adapters.base import ColorFrame
from hub.analytics.detection.base import Prepared
from hub.analytics.pipeline import FrameOutcome, Pipeline, StagedDetector
from hub.analytics.rules import RuleEngine
from hub.analytics.tracking import Tracker
from schemas.analytics import AnalyticsSettings, Box, Detection, Line, ObjectClass
from schemas.events import EventKind

CAMERA = UUID("5d0c2a8e-8f3b-4d61-9d43-2c6a1f0e7b15")
T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
# Vertical, crossed by a person walking left to right.
GATE = Line(id="gate", start=[0.5, 0.0], end=[0.5, 1.0])
SETTINGS = AnalyticsSettings.model_validate({"enabled": True, "fps": 5.0, "classes": ["person"]})
Frames = list[tuple[datetime, ColorFrame]]


def walker(steps: int) -> Frames:
    """A person walking left to right, one step a frame: the frame's first pixel holds the
    person's position (0-255 across the picture), which the fake detector reads."""
    frames = []
    for step in range(steps):
        frame = np.zeros((24, 32, 3), dtype=np.uint8)
        frame[0, 0, 0] = 20 + step * 200 // max(1, steps - 1)
        frames.append((T0 + timedelta(seconds=step / 5), frame))
    return frames


def person_at(position: float) -> list[Detection]:
    box = Box(x=position * 0.9, y=0.3, w=0.1, h=0.4)
    return [Detection(object_class=ObjectClass.PERSON, confidence=0.9, box=box)]


class OneStep:
    """A detector with only `detect`, like the ultralytics backend."""

    def __init__(self) -> None:
        self.threads: set[int] = set()

    def detect(self, frame: ColorFrame) -> list[Detection]:
        self.threads.add(threading.get_ident())
        return person_at(float(frame[0, 0, 0]) / 255)


class Steps(OneStep):
    """The same detections in three steps; records the threads each step ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared_on: set[int] = set()
        self.inferred_on: set[int] = set()
        self.read_on: set[int] = set()

    def detect(self, frame: ColorFrame) -> list[Detection]:
        prepared = self.prepare(frame)
        return self.read(self.infer(prepared.blob), prepared)

    def prepare(self, frame: ColorFrame) -> Prepared:
        self.prepared_on.add(threading.get_ident())
        blob = np.full((1, 1, 1, 1), frame[0, 0, 0], dtype=np.float32)
        return Prepared(blob, 1.0, frame.shape[1], frame.shape[0])

    def infer(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        self.inferred_on.add(threading.get_ident())
        return blob.reshape(1, 1) / np.float32(255)

    def read(self, rows: npt.NDArray[np.float32], prepared: Prepared) -> list[Detection]:
        self.read_on.add(threading.get_ident())
        return person_at(float(rows[0, 0]))


def pipeline(detector: OneStep) -> Pipeline:
    rules = RuleEngine(CAMERA, [], [GATE], (127.0, 37.5))
    return Pipeline(CAMERA, SETTINGS, detector, Tracker(frame_rate=5.0), rules)


def summary(outcomes: list[FrameOutcome]) -> list[tuple[object, ...]]:
    return [
        (
            [(o.track_id, o.object_class, o.box) for o in outcome.objects],
            [(e.id, e.kind, e.subject, e.data) for e in outcome.events],
        )
        for outcome in outcomes
    ]


def pipeline_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("pipeline-")]


def test_the_fake_detector_with_steps_is_taken_for_a_staged_one() -> None:
    assert isinstance(Steps(), StagedDetector)
    assert not isinstance(OneStep(), StagedDetector)


def test_streamed_outcomes_are_the_frame_by_frame_ones_with_the_model_off_the_callers_thread() -> (
    None
):
    frames = walker(30)
    one_by_one = pipeline(Steps())
    expected = [one_by_one.process(at, frame) for at, frame in frames]
    detector = Steps()
    streamed = pipeline(detector)
    got = list(streamed.stream(frames))
    assert summary(got) == summary(expected)
    crossings = [e for outcome in got for e in outcome.events]
    assert [e.kind for e in crossings] == [EventKind.LINE_CROSSING]
    assert streamed.frames == 30
    caller = threading.get_ident()
    assert detector.read_on == {caller}
    assert caller not in detector.prepared_on and caller not in detector.inferred_on
    assert detector.prepared_on.isdisjoint(detector.inferred_on)
    assert pipeline_threads() == []


def test_a_detector_without_steps_is_streamed_frame_by_frame_on_the_callers_thread() -> None:
    frames = walker(30)
    one_by_one = pipeline(OneStep())
    expected = [one_by_one.process(at, frame) for at, frame in frames]
    detector = OneStep()
    got = list(pipeline(detector).stream(frames))
    assert summary(got) == summary(expected)
    assert detector.threads == {threading.get_ident()}


def test_an_error_from_the_frames_comes_after_the_outcomes_of_the_frames_before_it() -> None:
    def failing() -> Iterator[tuple[datetime, ColorFrame]]:
        yield from walker(5)
        raise ConnectionError("the stream dropped")

    got: list[FrameOutcome] = []
    with pytest.raises(ConnectionError, match="the stream dropped"):
        for outcome in pipeline(Steps()).stream(failing()):
            got.append(outcome)
    assert len(got) == 5
    assert pipeline_threads() == []


def test_a_bad_frame_is_refused_in_its_place() -> None:
    frames = walker(4)
    frames[2] = (frames[2][0], np.zeros((24, 32), dtype=np.uint8))
    got: list[FrameOutcome] = []
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        for outcome in pipeline(Steps()).stream(frames):
            got.append(outcome)
    assert len(got) == 2


@pytest.mark.parametrize(
    ("detector", "read_ahead"),
    # Staged: besides the 3 taken, one result waits for the caller, the model has finished
    # the next, and one more frame is letterboxed. Frame by frame: none.
    [(Steps, 3), (OneStep, 0)],
)
def test_the_stream_reads_few_frames_ahead_and_closing_it_closes_them_and_stops_its_threads(
    detector: type[OneStep], read_ahead: int
) -> None:
    drawn = 0
    more = threading.Condition()
    closed = threading.Event()

    def endless() -> Iterator[tuple[datetime, ColorFrame]]:
        nonlocal drawn
        try:
            while True:
                for item in walker(10):
                    with more:
                        drawn += 1
                        more.notify_all()
                    yield item
        finally:
            closed.set()

    outcomes = pipeline(detector()).stream(endless())
    taken = [next(outcomes) for _ in range(3)]
    with more:  # as far ahead as the stream goes, where its threads wait for the caller
        assert more.wait_for(lambda: drawn >= len(taken) + read_ahead, timeout=30)
    assert not closed.is_set()
    outcomes.close()
    assert closed.is_set()
    assert drawn == len(taken) + read_ahead
    assert pipeline_threads() == []
