"""The pure track rules on synthetic tracks: presence, loitering, line crossing with
hysteresis, crowding, missing objects, deterministic ids and bounded memory."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from hub.analytics.rules import RuleEngine, RuleSettings
from schemas.analytics import Box, Direction, Line, ObjectClass, TrackedObject, Zone
from schemas.events import EventKind, NormalizedEvent

CAMERA = UUID("0b6f0c6e-1d1a-4c8e-9a55-3f4f2b7d9e01")
T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
PERSON, CAR, TRUCK = ObjectClass.PERSON, ObjectClass.CAR, ObjectClass.TRUCK
SQUARE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]]
# Horizontal, drawn left to right: forward is downwards on the image (y grows).
DOOR = Line(id="door", start=[0.1, 0.5], end=[0.9, 0.5])
Frames = list[tuple[float, list[TrackedObject]]]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def obj(
    track: int, x: float, y: float, cls: ObjectClass = PERSON, size: float = 0.1
) -> TrackedObject:
    """An object whose foot (bottom centre) stands at (x, y)."""
    box = Box(x=x - size / 2, y=y - size, w=size, h=size)
    return TrackedObject(track_id=track, object_class=cls, confidence=0.9, box=box)


def run(engine: RuleEngine, frames: Frames, snapshot: str | None = None) -> list[NormalizedEvent]:
    events: list[NormalizedEvent] = []
    for seconds, objects in frames:
        events += engine.step(at(seconds), objects, snapshot)
    return events


def kinds(events: list[NormalizedEvent]) -> list[tuple[EventKind, bool | None]]:
    return [(e.kind, e.active) for e in events]


def zone_engine(position: tuple[float, float] | None = None, **zone: object) -> RuleEngine:
    return RuleEngine(
        CAMERA, [Zone.model_validate({"id": "yard", "polygon": SQUARE, **zone})], [], position
    )


# --- presence -------------------------------------------------------------------------


def test_entering_and_leaving_a_zone_gives_active_then_inactive_presence() -> None:
    engine = zone_engine(position=(23.32, 42.69))
    frames: Frames = [(0, [obj(7, 0.1, 0.4)]), (1, [obj(7, 0.3, 0.4)]), (2, [obj(7, 0.4, 0.4)])]
    frames += [(4, [obj(7, 0.8, 0.4)])]
    events = run(engine, frames, snapshot="snap/1.jpg")
    assert kinds(events) == [(EventKind.INTRUSION, True), (EventKind.INTRUSION, False)]
    enter, leave = events
    assert enter.occurred_at == at(1) and leave.occurred_at == at(4)
    assert enter.camera_id == CAMERA and enter.source == "analytics"
    assert enter.topic == "c4hub/analytics/intrusion"
    assert enter.subject == {"zone": "yard", "track": "7"}
    assert enter.data == {"class": "person", "snapshot": "snap/1.jpg", "lon": 23.32, "lat": 42.69}
    assert leave.data["dwell_s"] == 1.0  # entered at 1, last inside at 2


def test_presence_only_for_watched_classes() -> None:
    engine = zone_engine(classes=["car"])
    events = run(engine, [(0, [obj(1, 0.4, 0.4, PERSON), obj(2, 0.5, 0.5, CAR)])])
    assert [(e.subject["track"], e.data["class"]) for e in events] == [("2", "car")]


def test_a_foot_jittering_on_the_edge_does_not_flap_presence() -> None:
    # Outside for one frame (0.5 s), shorter than the 1 s exit grace: still the same visit.
    engine = zone_engine()
    xs = [0.21, 0.19, 0.21, 0.19, 0.21]
    events = run(engine, [(i * 0.5, [obj(1, x, 0.4)]) for i, x in enumerate(xs)])
    assert kinds(events) == [(EventKind.INTRUSION, True)]


def test_a_track_that_vanishes_leaves_the_zone_after_the_grace() -> None:
    engine = zone_engine()
    events = run(engine, [(0, [obj(1, 0.4, 0.4)]), (0.5, []), (1.0, [])])
    assert kinds(events) == [(EventKind.INTRUSION, True), (EventKind.INTRUSION, False)]
    assert events[1].occurred_at == at(1.0)


# --- loitering ------------------------------------------------------------------------


def test_loitering_fires_once_only_after_the_dwell_is_exceeded() -> None:
    engine = zone_engine(dwell_s=10)
    inside = [obj(3, 0.4, 0.4)]
    # At exactly 10 s of dwell nothing yet; at 10.5 s it fires; never again for this track.
    assert [e.kind for e in run(engine, [(0, inside), (10, inside)])] == [EventKind.INTRUSION]
    loiter = run(engine, [(10.5, inside)])
    assert kinds(loiter) == [(EventKind.LOITERING, None)]
    assert loiter[0].data["dwell_s"] == 10.5
    assert loiter[0].subject == {"zone": "yard", "track": "3"}
    later = run(
        engine, [(11, inside), (30, inside), (40, []), (41, []), (42, inside), (60, inside)]
    )
    assert EventKind.LOITERING not in [e.kind for e in later]


# --- line crossing --------------------------------------------------------------------


def line_engine(*lines: Line, margin: float = 0.02) -> RuleEngine:
    return RuleEngine(CAMERA, [], list(lines), settings=RuleSettings(line_margin=margin))


def walk(
    track: int, ys: list[float], cls: ObjectClass = PERSON, x: float = 0.5, t0: float = 0
) -> Frames:
    return [(t0 + i * 0.5, [obj(track, x, y, cls)]) for i, y in enumerate(ys)]


def test_crossing_both_ways_counts_per_direction_and_class() -> None:
    named = DOOR.model_copy(update={"forward_name": "entering", "backward_name": "leaving"})
    engine = line_engine(named)
    events = run(engine, walk(1, [0.3, 0.45, 0.55, 0.7]))
    events += run(engine, walk(2, [0.8, 0.6, 0.4], CAR, t0=10))
    events += run(engine, walk(3, [0.2, 0.8], CAR, t0=20))
    assert [(e.kind, e.data["direction"], e.data["class"]) for e in events] == [
        (EventKind.LINE_CROSSING, "forward", "person"),
        (EventKind.LINE_CROSSING, "backward", "car"),
        (EventKind.LINE_CROSSING, "forward", "car"),
    ]
    assert events[0].active is None and events[0].subject == {"line": "door", "track": "1"}
    assert events[0].topic == "c4hub/analytics/line_crossing"
    assert [e.data["direction_name"] for e in events] == ["entering", "leaving", "entering"]
    assert engine.counts() == {
        "door": {Direction.FORWARD: {PERSON: 1, CAR: 1}, Direction.BACKWARD: {CAR: 1}}
    }


def test_forward_follows_the_line_drawing_direction() -> None:
    # The same movement across a line drawn the other way round is backward.
    reversed_door = Line(id="door", start=[0.9, 0.5], end=[0.1, 0.5])
    events = run(line_engine(reversed_door), walk(1, [0.3, 0.7]))
    assert [e.data["direction"] for e in events] == ["backward"]


def test_line_class_filter() -> None:
    engine = line_engine(DOOR.model_copy(update={"classes": [CAR]}))
    assert run(engine, walk(1, [0.3, 0.7], PERSON)) == []
    assert engine.counts() == {"door": {Direction.FORWARD: {}, Direction.BACKWARD: {}}}


def test_a_track_keeps_its_most_frequent_class_when_the_detector_flips() -> None:
    engine = line_engine(DOOR)
    frames: Frames = [
        (i * 0.5, [obj(1, 0.5, y, cls)])
        for i, (y, cls) in enumerate([(0.2, CAR), (0.3, CAR), (0.4, TRUCK), (0.6, TRUCK)])
    ]
    events = run(engine, frames)
    # Two votes each: the latest (truck) breaks the tie.
    assert [e.data["class"] for e in events] == ["truck"]
    events = run(engine, [(3, [obj(1, 0.5, 0.4, CAR)]), (3.5, [obj(1, 0.5, 0.2, CAR)])])
    assert [e.data["class"] for e in events] == ["car"]  # three car votes now
    assert engine.counts()["door"] == {
        Direction.FORWARD: {TRUCK: 1},
        Direction.BACKWARD: {CAR: 1},
    }


def test_a_track_oscillating_on_the_line_counts_once_per_real_crossing() -> None:
    # Within the ±0.02 band the side is not confirmed: the jitter around 0.5 counts nothing,
    # the real crossing to 0.6 counts once, the jitter after it nothing more.
    engine = line_engine(DOOR)
    ys = [0.4, 0.49, 0.51, 0.49, 0.51, 0.495, 0.505, 0.6, 0.51, 0.49, 0.51, 0.6, 0.61]
    events = run(engine, walk(1, ys))
    assert [e.data["direction"] for e in events] == ["forward"]


def test_jitter_that_returns_to_its_side_counts_nothing() -> None:
    engine = line_engine(DOOR)
    assert run(engine, walk(1, [0.4, 0.49, 0.51, 0.49, 0.4, 0.51, 0.45])) == []


def test_back_and_forth_crossings_each_count() -> None:
    engine = line_engine(DOOR)
    events = run(engine, walk(1, [0.4, 0.6, 0.4, 0.6]))
    assert [e.data["direction"] for e in events] == ["forward", "backward", "forward"]


def test_passing_beyond_the_end_of_the_line_is_not_a_crossing() -> None:
    short = Line(id="gate", start=[0.4, 0.5], end=[0.6, 0.5])
    engine = line_engine(short)
    assert run(engine, walk(1, [0.3, 0.7], x=0.8)) == []
    # The next real crossing of the same track is still counted.
    events = run(engine, [(5, [obj(1, 0.5, 0.7)]), (6, [obj(1, 0.5, 0.3)])])
    assert [e.data["direction"] for e in events] == ["backward"]


def test_a_crossing_needs_the_side_confirmed_beyond_the_band() -> None:
    # Foot stops inside the band on the far side: not (yet) a crossing.
    engine = line_engine(DOOR)
    assert run(engine, walk(1, [0.4, 0.51, 0.515])) == []
    events = run(engine, [(5, [obj(1, 0.5, 0.53)])])
    assert [e.data["direction"] for e in events] == ["forward"]


# --- crowding -------------------------------------------------------------------------


def test_crowding_is_edge_triggered() -> None:
    engine = zone_engine(max_count=2, classes=["person"])
    people = [obj(i, 0.3 + 0.05 * i, 0.4) for i in range(4)]
    counts = [1, 2, 3, 3, 4, 3, 2, 2, 3]
    # A car in the zone is not a watched object and never counts.
    frames: Frames = [
        (i * 2.0, [*people[:n], obj(99, 0.5, 0.5, CAR)]) for i, n in enumerate(counts)
    ]
    crowding = [e for e in run(engine, frames) if e.kind is EventKind.CROWDING]
    assert [(e.active, e.data["count"], e.occurred_at) for e in crowding] == [
        (True, 3, at(4)),
        (False, 2, at(12)),
        (True, 3, at(16)),
    ]
    assert crowding[0].subject == {"zone": "yard"}
    assert crowding[0].data["max_count"] == 2


# --- missing object -------------------------------------------------------------------

SETTINGS = RuleSettings(stationary_s=10)


def parked(track: int, cls: ObjectClass = CAR, dx: float = 0.0) -> TrackedObject:
    box = Box(x=0.3 + dx, y=0.3, w=0.2, h=0.1)  # foot (0.4, 0.4), inside the yard
    return TrackedObject(track_id=track, object_class=cls, confidence=0.8, box=box)


def missing_engine() -> RuleEngine:
    zone = Zone(id="yard", polygon=SQUARE, classes=[CAR, TRUCK], missing_after_s=30)
    return RuleEngine(CAMERA, [zone], [], settings=SETTINGS)


def test_a_parked_object_whose_track_id_changes_is_not_missing_until_it_leaves() -> None:
    engine = missing_engine()
    # Parked for 12 s with a little detector jitter, plus a car driving through.
    frames: Frames = [
        (t, [parked(5, dx=0.003 * (t % 2)), obj(6, 0.22 + 0.03 * t, 0.5, CAR)]) for t in range(13)
    ]
    run(engine, frames)
    refs = engine.take_reference()
    assert [(r.zone_id, r.track_id, r.object_class) for r in refs] == [("yard", 5, CAR)]
    # Occluded for 20 s, then the tracker gives it a new id and calls it a truck: same object.
    later: Frames = [(t, []) for t in range(13, 33)]
    later += [(t, [parked(40, TRUCK)]) for t in range(33, 70)]
    events = run(engine, later)
    assert EventKind.MISSING_OBJECT not in [e.kind for e in events]
    # Gone from 70 on: after more than 30 s (so at 100.5, not at exactly 100) reported once.
    gone = run(engine, [(t / 2, []) for t in range(140, 260)])
    missing = [e for e in gone if e.kind is EventKind.MISSING_OBJECT]
    assert [(e.occurred_at, e.subject, e.data["class"]) for e in missing] == [
        (at(99.5), {"zone": "yard", "track": "5"}, "car")
    ]
    assert missing[0].data["last_seen"] == at(69).isoformat()
    assert engine.references() == []


def test_only_stationary_watched_objects_in_the_zone_are_referenced() -> None:
    engine = missing_engine()
    frames: Frames = [
        (
            t,
            [
                parked(1),
                parked(2, PERSON),
                obj(3, 0.8, 0.8, CAR),
                obj(4, 0.21 + 0.03 * t, 0.5, CAR),
            ],
        )
        for t in range(13)
    ]
    run(engine, frames)
    assert [r.track_id for r in engine.take_reference()] == [1]


def test_references_carried_into_a_fresh_engine_keep_when_they_were_last_present() -> None:
    earlier = missing_engine()
    run(earlier, [(t, [parked(5)]) for t in range(13)])
    assert [r.track_id for r in earlier.take_reference()] == [5]
    run(earlier, [(13, [parked(5)]), (14, [])])  # last present at 13 s; the stream then stops
    fresh = missing_engine()
    fresh.keep_references(earlier)
    assert fresh.references() == earlier.references() and fresh.last_time is None
    # The stream comes back at 40 s. The new tracker numbers afresh: its track 5 is someone
    # else (a car far from the reference box), not the parked car.
    stranger = TrackedObject(
        track_id=5, object_class=CAR, confidence=0.8, box=Box(x=0.21, y=0.45, w=0.1, h=0.1)
    )
    events = run(fresh, [(40, [stranger]), (43, [stranger]), (44, [stranger])])
    missing = [e for e in events if e.kind is EventKind.MISSING_OBJECT]
    # Counted from 13 s, not from the fresh engine's first frame: gone over 30 s at 44 s.
    assert [(e.occurred_at, e.subject) for e in missing] == [
        (at(44), {"zone": "yard", "track": "5"})
    ]
    assert missing[0].data["last_seen"] == at(13).isoformat()


def test_a_carried_reference_is_still_recognised_by_its_class_and_box() -> None:
    earlier = missing_engine()
    run(earlier, [(t, [parked(5)]) for t in range(13)])
    earlier.take_reference()
    fresh = missing_engine()
    fresh.keep_references(earlier)
    # After the gap the parked car is there under a new id: present, not missing.
    events = run(fresh, [(t, [parked(0)]) for t in range(60, 120)])
    assert EventKind.MISSING_OBJECT not in [e.kind for e in events]
    assert [r.track_id for r in fresh.references()] == [5]


def test_references_of_zones_no_longer_watched_for_missing_objects_are_not_carried() -> None:
    earlier = missing_engine()
    run(earlier, [(t, [parked(5)]) for t in range(13)])
    earlier.take_reference()
    fresh = RuleEngine(CAMERA, [Zone(id="yard", polygon=SQUARE, dwell_s=60)], [])
    fresh.keep_references(earlier)
    assert fresh.references() == []


def test_a_reference_taken_too_early_finds_nothing() -> None:
    engine = missing_engine()
    assert engine.take_reference() == []
    run(engine, [(t, [parked(1)]) for t in range(5)])  # parked 4 s < stationary_s
    assert engine.take_reference() == []


# --- ids, order, memory, bad input ----------------------------------------------------


def busy_frames() -> Frames:
    return [
        (t * 0.5, [obj(1, 0.1 + 0.05 * t, 0.4), obj(2, 0.4, 0.2 + 0.05 * t, CAR)])
        for t in range(16)
    ]


def busy_engine(camera: UUID = CAMERA) -> RuleEngine:
    zone = Zone(id="yard", polygon=SQUARE, dwell_s=2, max_count=1)
    return RuleEngine(camera, [zone], [DOOR], (23.3, 42.7))


def test_a_rerun_of_the_same_frames_gives_the_same_event_ids() -> None:
    first = run(busy_engine(), busy_frames(), "s.jpg")
    second = run(busy_engine(), busy_frames(), "s.jpg")
    assert {e.kind for e in first} == {
        EventKind.INTRUSION,
        EventKind.LOITERING,
        EventKind.CROWDING,
        EventKind.LINE_CROSSING,
    }
    assert [e.id for e in first] == [e.id for e in second]
    assert first == second
    assert len({e.id for e in first}) == len(first)
    other = run(busy_engine(UUID(int=1)), busy_frames(), "s.jpg")
    assert not {e.id for e in first} & {e.id for e in other}


def test_tracks_unseen_for_a_while_are_forgotten() -> None:
    settings = RuleSettings(forget_after_s=5, max_tracks=10_000)
    engine = RuleEngine(CAMERA, [Zone(id="yard", polygon=SQUARE)], [DOOR], settings=settings)
    # 2000 tracks, each seen once, 20 per frame: only the last 6 s of tracks are remembered.
    for frame in range(100):
        objects = [obj(frame * 20 + i, 0.3 + 0.01 * i, 0.4) for i in range(20)]
        engine.step(at(frame), objects)
        assert engine.track_count <= 20 * 6
    engine.step(at(200), [])
    assert engine.track_count == 0


def test_the_track_cap_drops_the_least_recently_seen_and_they_leave_their_zones() -> None:
    settings = RuleSettings(max_tracks=50)
    engine = RuleEngine(CAMERA, [Zone(id="yard", polygon=SQUARE)], [], settings=settings)
    engine.step(at(0), [obj(i, 0.25 + 0.01 * i, 0.4) for i in range(30)])
    crowd = [obj(100 + i, 0.25 + 0.004 * i, 0.4) for i in range(40)]
    events = engine.step(at(0.5), crowd)
    # 30 + 40 = 70 tracks: the 20 seen longest ago (tracks 0..19) go, leaving the zone.
    assert engine.track_count == 50
    assert len([e for e in events if e.active is True]) == 40
    left = [e for e in events if e.active is False]
    assert sorted(int(e.subject["track"]) for e in left) == list(range(20))


def test_an_invalid_zone_or_line_is_refused_by_name() -> None:
    bowtie = Zone(id="bowtie", polygon=[[0.2, 0.2], [0.6, 0.6], [0.6, 0.2], [0.2, 0.6]])
    with pytest.raises(ValueError, match='zone "bowtie": the outline crosses itself'):
        RuleEngine(CAMERA, [bowtie], [])
    flat = Zone(id="flat", polygon=[[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]])
    with pytest.raises(ValueError, match='zone "flat": the zone has no area'):
        RuleEngine(CAMERA, [flat], [])
    with pytest.raises(ValueError, match="line ids must be unique on a camera: door"):
        RuleEngine(CAMERA, [], [DOOR, DOOR])
    with pytest.raises(ValueError, match="zone ids must be unique"):
        RuleEngine(CAMERA, [bowtie, bowtie], [])
    with pytest.raises(ValueError, match="camera position"):
        RuleEngine(CAMERA, [], [], (200.0, 42.0))


def test_frames_must_be_in_time_order_with_a_time_zone_and_unique_tracks() -> None:
    engine = zone_engine()
    engine.step(at(5), [])
    with pytest.raises(ValueError, match="time order"):
        engine.step(at(4), [])
    with pytest.raises(ValueError, match="time zone"):
        engine.step(datetime(2026, 11, 21, 8, 0, 6), [])
    with pytest.raises(ValueError, match="twice in one frame"):
        engine.step(at(6), [obj(1, 0.4, 0.4), obj(1, 0.5, 0.5)])
