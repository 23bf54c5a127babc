"""The streamed pipeline (`Pipeline.stream`, the model run of one frame beside the tracking of
the one before) against `Pipeline.process` frame by frame, on the shared videos with the
real detector, tracker and rules: the same detections, tracks, events and vehicles."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.analytics.pipeline import FrameOutcome, Pipeline, StagedDetector, VehicleSighting
from schemas.analytics import AnalyticsSettings
from schemas.events import EventKind
from tests.integration.analytics_video import CARS, PEOPLE, frames_of, pipeline_for, settings

START = 1.8e9
# People walk left to right across the shop floor; this line stands in their way.
EXIT_LINE = {"id": "exit", "start": [0.75, 1.0], "end": [0.75, 0.5]}


def outcome_facts(outcome: FrameOutcome) -> tuple[object, ...]:
    objects = [(o.track_id, o.object_class, o.confidence, o.box) for o in outcome.objects]
    events = [(e.id, e.kind, e.occurred_at, e.subject, e.data) for e in outcome.events]
    return objects, events, [sighting_facts(s) for s in outcome.finished]


def sighting_facts(sighting: VehicleSighting) -> tuple[object, ...]:
    crops = [(area, crop.shape, crop.tobytes()) for area, crop in sighting.crops]
    return (
        sighting.track_id,
        sighting.object_class,
        sighting.first_seen,
        sighting.last_seen,
        sighting.direction,
        sighting.colour,
        crops,
    )


def both_ways(
    config: AnalyticsSettings, video: Path
) -> tuple[list[FrameOutcome], list[FrameOutcome], Pipeline, Pipeline]:
    """The video through two pipelines of one camera: frame by frame, and streamed."""
    camera_id = uuid.uuid4()
    timed = frames_of(video, config.fps)
    frames = [(datetime.fromtimestamp(START + at, UTC), frame) for at, frame in timed]
    one_by_one = pipeline_for(camera_id, config)
    expected = [one_by_one.process(at, frame) for at, frame in frames]
    streamed = pipeline_for(camera_id, config)
    assert isinstance(streamed.detector, StagedDetector)  # the threaded path, not the fallback
    got = list(streamed.stream(frames))
    return expected, got, one_by_one, streamed


@pytest.mark.slow
def test_streamed_people_give_the_same_tracks_and_crossings_as_frame_by_frame() -> None:
    zone = {"id": "floor", "polygon": [[0.3, 0.6], [0.9, 0.6], [0.9, 1], [0.3, 1]]}
    config = settings(fps=5.0, classes=["person"], lines=[EXIT_LINE], zones=[zone])
    expected, got, one_by_one, streamed = both_ways(config, PEOPLE)
    assert len(got) == len(expected) == one_by_one.frames == streamed.frames
    assert [outcome_facts(o) for o in got] == [outcome_facts(o) for o in expected]
    kinds = {e.kind for o in got for e in o.events}
    assert {EventKind.LINE_CROSSING, EventKind.INTRUSION} <= kinds  # not an empty comparison


@pytest.mark.slow
def test_streamed_cars_give_the_same_vehicles_with_crops_and_colour_as_frame_by_frame() -> None:
    config = settings(fps=12.5, classes=["car", "bus", "truck"], vehicle_attributes=True)
    expected, got, one_by_one, streamed = both_ways(config, CARS)
    assert [outcome_facts(o) for o in got] == [outcome_facts(o) for o in expected]
    left = [sighting_facts(s) for s in streamed.finish()]
    assert left == [sighting_facts(s) for s in one_by_one.finish()]
    vehicles = [s for o in got for s in o.finished]
    assert vehicles and all(s.crops for s in vehicles)  # not an empty comparison
