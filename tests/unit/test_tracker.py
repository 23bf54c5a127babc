"""The tracker on synthetic detections: ids follow boxes, classes are voted per track."""

from hub.analytics.tracking import Tracker
from schemas.analytics import Box, Detection, ObjectClass


def car(x: float, y: float, object_class: ObjectClass = ObjectClass.CAR) -> Detection:
    return Detection(object_class=object_class, confidence=0.9, box=Box(x=x, y=y, w=0.1, h=0.1))


def test_two_cars_keep_their_ids_while_they_move() -> None:
    tracker = Tracker(frame_rate=10)
    ids: list[tuple[int, ...]] = []
    for step in range(20):
        x = 0.1 + step * 0.02
        found = tracker.update([car(x, 0.2), car(0.8 - x, 0.6)], frame_time=step / 10)
        ids.append(tuple(obj.track_id for obj in sorted(found, key=lambda obj: obj.box.y)))
    assert ids[0] == ()  # a track is confirmed on its second frame
    assert len(set(ids[1:])) == 1 and len(ids[1]) == 2


def test_a_track_keeps_the_class_most_of_its_detections_named() -> None:
    tracker = Tracker(frame_rate=10)
    classes = []
    for step in range(10):
        called = ObjectClass.BUS if step % 3 == 2 else ObjectClass.CAR
        found = tracker.update([car(0.1 + step * 0.01, 0.2, called)], frame_time=step / 10)
        classes += [obj.object_class for obj in found]
    assert classes == [ObjectClass.CAR] * 9


def test_a_track_lost_for_long_is_forgotten() -> None:
    tracker = Tracker(frame_rate=10, lost_after_s=1.0)
    tracker.update([car(0.1, 0.1)], frame_time=0.0)
    (first,) = tracker.update([car(0.1, 0.1)], frame_time=0.1)
    for step in range(2, 40):
        tracker.update([], frame_time=step / 10)
    tracker.update([car(0.1, 0.1)], frame_time=4.0)
    (again,) = tracker.update([car(0.1, 0.1)], frame_time=4.1)
    assert again.track_id != first.track_id
