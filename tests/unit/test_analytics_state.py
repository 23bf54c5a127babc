"""The analysis carried from one segment to the next: the rule engine survives being saved, and
the next segment carries on, or starts afresh keeping only the references, as it should."""

import pickle
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from hub.analytics import state
from hub.analytics.rules import RuleEngine
from hub.analytics.service import settings_hash
from hub.analytics.state import Carried, Saved
from hub.analytics.tracking import Tracker
from schemas.analytics import AnalyticsSettings, Box, ObjectClass, TrackedObject
from schemas.events import EventKind, NormalizedEvent

CAMERA = UUID("4f1c2a9e-7b3d-4e8a-9c61-0d5e3f2a1b7c")
T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
POSITION = (23.32, 42.69)
TABLE = [[0.4, 0.6], [0.8, 0.6], [0.8, 1.0], [0.4, 1.0]]
CONFIG = AnalyticsSettings.model_validate(
    {
        "enabled": True,
        "fps": 2.0,
        "classes": ["person", "car"],
        "zones": [{"id": "table", "polygon": TABLE, "dwell_s": 15, "missing_after_s": 5}],
    }
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def standing(track: int = 3, cls: ObjectClass = ObjectClass.PERSON) -> TrackedObject:
    box = Box(x=0.5, y=0.7, w=0.1, h=0.2)  # foot (0.55, 0.9): at the table
    return TrackedObject(track_id=track, object_class=cls, confidence=0.9, box=box)


def feed(engine: RuleEngine, start: float, until: float) -> list[NormalizedEvent]:
    """The person standing at the table, one frame every 0.5 s from `start` to `until`."""
    events: list[NormalizedEvent] = []
    t = start
    while t < until:
        events += engine.step(at(t), [standing()])
        t += 0.5
    return events


def engine() -> RuleEngine:
    return RuleEngine(CAMERA, list(CONFIG.zones), [], POSITION)


def saved(carried: Carried, config: AnalyticsSettings = CONFIG) -> Saved:
    return Saved(settings_hash(config), state.FORMAT + pickle.dumps(carried), None)


def carried_until(seconds: float, reference: bool = False) -> Carried:
    """The analysis of a segment that watched the person stand from 0 s to `seconds`."""
    rules = engine()
    feed(rules, 0.0, seconds)
    if reference:
        assert rules.take_reference() != []
    return Carried(Tracker(frame_rate=CONFIG.fps), rules, at(0))


def test_a_loiterer_across_the_boundary_loiters_once_with_his_whole_dwell_time() -> None:
    first = engine()
    events = feed(first, 0.0, 10.0)  # segment 1: arrives at 0 s, still there at its end
    restored = pickle.loads(pickle.dumps(first))
    events += feed(restored, 10.0, 30.0)  # segment 2, on another worker
    loitering = [e for e in events if e.kind is EventKind.LOITERING]
    assert [(e.occurred_at, e.data["dwell_s"]) for e in loitering] == [(at(15.5), 15.5)]
    entered = [e for e in events if e.kind is EventKind.INTRUSION and e.active]
    assert len(entered) == 1  # not entering again at the boundary


def test_the_same_settings_within_the_resume_time_carry_on_with_the_saved_analysis() -> None:
    before = carried_until(10.0)
    resumed = state.resume(saved(before), CAMERA, CONFIG, POSITION, at(20.0), 30.0)
    assert resumed.watching_since == at(0) and resumed.rules.last_time == at(9.5)
    # Still standing there: no new entry, and loitering counted from his arrival at 0 s.
    events = feed(resumed.rules, 20.0, 21.0)
    assert [(e.kind, e.data["dwell_s"]) for e in events] == [(EventKind.LOITERING, 20.0)]


def test_changed_settings_start_afresh_without_the_references() -> None:
    changed = CONFIG.model_copy(update={"fps": 5.0})
    resumed = state.resume(
        saved(carried_until(12.0, reference=True)), CAMERA, changed, POSITION, at(12.5), 30.0
    )
    assert resumed.rules.last_time is None and resumed.rules.references() == []
    assert resumed.watching_since == at(12.5)


def test_switching_analytics_off_and_on_is_not_a_change_of_settings() -> None:
    assert settings_hash(CONFIG) == settings_hash(CONFIG.model_copy(update={"enabled": False}))
    assert settings_hash(CONFIG) != settings_hash(CONFIG.model_copy(update={"fps": 5.0}))


def test_a_moved_camera_starts_afresh() -> None:
    resumed = state.resume(
        saved(carried_until(12.0, reference=True)), CAMERA, CONFIG, (23.0, 42.0), at(12.5), 30.0
    )
    assert resumed.rules.last_time is None and resumed.rules.references() == []


@pytest.mark.parametrize(
    ("first_frame_s", "missing"), [(60.0, 1), (5.0, 0)], ids=["after-a-gap", "clock-went-back"]
)
def test_a_stale_or_earlier_analysis_starts_afresh_keeping_the_references(
    first_frame_s: float, missing: int
) -> None:
    before = carried_until(12.0, reference=True)
    resumed = state.resume(saved(before), CAMERA, CONFIG, POSITION, at(first_frame_s), 30.0)
    assert resumed.rules is not before.rules and resumed.rules.last_time is None
    assert resumed.watching_since == at(first_frame_s)
    assert resumed.rules.references() == before.rules.references()
    # The person left during the gap: reported missing on the first frame after it, counted
    # from when he was last there (11.5 s); the fresh engine takes a frame from any time.
    events = resumed.rules.step(at(first_frame_s), [])
    reported = [e for e in events if e.kind is EventKind.MISSING_OBJECT]
    assert len(reported) == missing
    assert all(e.data["last_seen"] == at(11.5).isoformat() for e in reported)


@pytest.mark.parametrize(
    "blob",
    [
        b"c4hub-analytics-state/0\n" + pickle.dumps("old"),
        state.FORMAT + b"\x80\x05 not a pickle",
        state.FORMAT + pickle.dumps({"tracker": None}),
        b"",
    ],
    ids=["other-version", "damaged", "not-a-state", "empty"],
)
def test_a_saved_state_that_does_not_load_starts_afresh(blob: bytes) -> None:
    resumed = state.resume(
        Saved(settings_hash(CONFIG), blob, None), CAMERA, CONFIG, POSITION, at(3.0), 30.0
    )
    assert resumed.rules.last_time is None and resumed.watching_since == at(3.0)
    assert resumed.rules.step(at(3.0), [standing()]) != []  # and it works: he enters


def test_nothing_saved_starts_afresh() -> None:
    resumed = state.resume(None, CAMERA, CONFIG, POSITION, at(3.0), 30.0)
    assert resumed.rules.last_time is None and resumed.watching_since == at(3.0)


def test_a_requested_reference_is_due_stationary_s_after_request_or_first_frame() -> None:
    carried = carried_until(0.0)  # watching since 0 s; stationary_s is 10 s
    assert state.reference_due(at(4.0), carried) == at(14.0)  # history before counts
    carried.watching_since = at(30.0)  # a fresh analysis from 30 s
    assert state.reference_due(at(4.0), carried) == at(40.0)
