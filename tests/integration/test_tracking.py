"""ByteTrack over the shared videos, detected by yolox_nano.onnx: one id per object."""

import os
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import av
import numpy as np

from hub.analytics.detection import load_detector
from hub.analytics.tracking import Tracker
from schemas.analytics import AnalyticsSettings, ObjectClass, TrackedObject
from tests.support import DATA, SHARED

MODELS = Path(os.environ.get("C4HUB_MODELS_DIR", SHARED / "models"))


def track_video(
    name: str, every: int, max_frames: int
) -> dict[int, list[tuple[int, TrackedObject]]]:
    """Every `every`-th frame of a shared video through detector and tracker: each track id's
    (frame index, object) in order."""
    detector = load_detector(AnalyticsSettings(), MODELS)
    tracks: dict[int, list[tuple[int, TrackedObject]]] = defaultdict(list)
    with av.open(str(DATA / "video" / name)) as container:
        stream = container.streams.video[0]
        tracker = Tracker(frame_rate=float(stream.average_rate or 25) / every)
        for index, frame in enumerate(container.decode(stream)):
            if index >= max_frames:
                break
            if index % every:
                continue
            assert frame.time is not None
            picture = np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
            found = tracker.update(detector.detect(picture), frame.time)
            ids = [obj.track_id for obj in found]
            assert len(ids) == len(set(ids)), "two objects share an id in one frame"
            for obj in found:
                tracks[obj.track_id].append((index, obj))
    return tracks


def longest_run(frames: list[int], step: int) -> int:
    """The most frames in a row (at most one analysed frame missed) of one track."""
    best = run = 1
    for before, after in pairwise(frames):
        run = run + 1 if after - before <= 2 * step else 1
        best = max(best, run)
    return best


def test_a_moving_car_keeps_its_id_and_ids_do_not_multiply() -> None:
    tracks = track_video("car-detection.mp4", every=1, max_frames=400)
    # The cars cross a top-down view of a car park; the nano COCO model sees them from
    # above only for stretches (the red saloon around frames 215-235, called bus, then car).
    assert 1 <= len(tracks) <= 5
    frames, objects = zip(*max(tracks.values(), key=len), strict=True)
    assert longest_run(list(frames), 1) >= 15
    # Seen from above it is called bus in some frames, car in others: the track keeps one.
    assert len({obj.object_class for obj in objects}) == 1
    assert {obj.object_class for obj in objects} <= {
        ObjectClass.CAR,
        ObjectClass.BUS,
        ObjectClass.TRUCK,
    }
    first, last = objects[0].box.centre, objects[-1].box.centre
    assert abs(first[0] - last[0]) + abs(first[1] - last[1]) > 0.05  # it moved


def test_people_walking_in_one_by_one_get_one_id_each() -> None:
    every = 2
    tracks = track_video("one-by-one-person-detection.mp4", every=every, max_frames=900)
    long_tracks = {
        track_id: items
        for track_id, items in tracks.items()
        if longest_run([f for f, _ in items], every) >= 30
    }
    # Four people walk through the first 900 frames, one after the other.
    assert len(long_tracks) >= 3
    assert len(tracks) <= 8
    for items in long_tracks.values():
        assert all(obj.object_class is ObjectClass.PERSON for _, obj in items)
