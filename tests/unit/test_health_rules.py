"""The pure health rules: what findings mean, and the grace period against flapping."""

from datetime import UTC, datetime, timedelta

import pytest

from hub.health.checks import source_adapter
from hub.health.rules import (
    Grace,
    Tracker,
    advance,
    classify,
    finding_for_error,
    ordered,
    should_learn_baseline,
)
from schemas.enums import AdapterKind, CameraStatus
from schemas.health import Finding

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
ONLINE, OFFLINE = CameraStatus.ONLINE, CameraStatus.OFFLINE
GRACE = Grace(checks=2, seconds=60)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("findings", "status"),
    [
        ([], CameraStatus.ONLINE),
        ([Finding.UNREACHABLE], CameraStatus.OFFLINE),
        ([Finding.NO_PICTURE], CameraStatus.DEGRADED),
        ([Finding.FROZEN], CameraStatus.DEGRADED),
        ([Finding.DARK], CameraStatus.TAMPERED),
        ([Finding.DEFOCUSED], CameraStatus.TAMPERED),
        ([Finding.SCENE_CHANGED], CameraStatus.TAMPERED),
        ([Finding.FROZEN, Finding.SCENE_CHANGED], CameraStatus.TAMPERED),
        ([Finding.DARK, Finding.UNREACHABLE], CameraStatus.OFFLINE),
    ],
)
def test_the_gravest_finding_decides_the_status(
    findings: list[Finding], status: CameraStatus
) -> None:
    assert classify(findings) is status


@pytest.mark.parametrize(
    ("code", "finding"),
    [
        ("unreachable", Finding.UNREACHABLE),
        ("connection_refused", Finding.UNREACHABLE),
        ("timeout", Finding.UNREACHABLE),
        ("authentication_failed", Finding.NO_PICTURE),
        ("stream_not_found", Finding.NO_PICTURE),
        ("protocol_error", Finding.NO_PICTURE),
    ],
)
def test_adapter_errors_tell_unreachable_from_no_picture(code: str, finding: Finding) -> None:
    assert finding_for_error(code) is finding


def test_findings_are_ordered_gravest_first_without_repeats() -> None:
    assert ordered([Finding.FROZEN, Finding.DARK, Finding.FROZEN]) == [
        Finding.DARK,
        Finding.FROZEN,
    ]


def test_an_unknown_camera_takes_its_first_observation_at_once() -> None:
    step = advance(Tracker(CameraStatus.UNKNOWN), OFFLINE, T0, GRACE)
    assert step.changed_from is CameraStatus.UNKNOWN
    assert step.tracker == Tracker(OFFLINE, since=T0)


def test_one_failed_check_is_not_a_change() -> None:
    step = advance(Tracker(ONLINE, since=T0), OFFLINE, at(60), GRACE)
    assert step.changed_from is None
    assert step.tracker.status is ONLINE
    assert (step.tracker.candidate, step.tracker.candidate_checks) == (OFFLINE, 1)


def test_a_blip_that_recovers_clears_the_candidate() -> None:
    blip = advance(Tracker(ONLINE, since=T0), OFFLINE, at(60), GRACE).tracker
    back = advance(blip, ONLINE, at(120), GRACE)
    assert back.changed_from is None
    assert back.tracker == Tracker(ONLINE, since=T0)


def test_a_change_is_confirmed_after_enough_checks_over_enough_time() -> None:
    tracker = Tracker(ONLINE, since=T0)
    first = advance(tracker, OFFLINE, at(100), GRACE)
    second = advance(first.tracker, OFFLINE, at(130), GRACE)  # two checks, but only 30 s
    assert second.changed_from is None
    third = advance(second.tracker, OFFLINE, at(160), GRACE)  # three checks over 60 s
    assert third.changed_from is ONLINE
    assert third.tracker == Tracker(OFFLINE, since=at(160))


def test_time_alone_does_not_confirm_a_change() -> None:
    first = advance(Tracker(ONLINE, since=T0), OFFLINE, at(100), Grace(checks=3, seconds=10))
    second = advance(first.tracker, OFFLINE, at(1000), Grace(checks=3, seconds=10))
    assert second.changed_from is None
    assert second.tracker.candidate_checks == 2


def test_a_different_candidate_restarts_the_grace_period() -> None:
    first = advance(Tracker(ONLINE, since=T0), OFFLINE, at(100), GRACE).tracker
    other = advance(first, CameraStatus.TAMPERED, at(200), GRACE)
    assert other.changed_from is None
    assert other.tracker.candidate is CameraStatus.TAMPERED
    assert other.tracker.candidate_since == at(200)
    assert other.tracker.candidate_checks == 1


def test_no_grace_confirms_at_once() -> None:
    step = advance(Tracker(ONLINE, since=T0), OFFLINE, at(1), Grace(checks=1, seconds=0))
    assert step.changed_from is ONLINE


def test_grace_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="grace"):
        Grace(checks=0)
    with pytest.raises(ValueError, match="grace"):
        Grace(seconds=-1)


def test_a_baseline_is_learned_only_from_a_sound_view_and_only_once() -> None:
    assert should_learn_baseline([], has_baseline=False)
    assert not should_learn_baseline([], has_baseline=True)
    assert not should_learn_baseline([Finding.DARK], has_baseline=False)
    assert not should_learn_baseline([Finding.FROZEN], has_baseline=False)


@pytest.mark.parametrize(
    ("adapter", "address", "name"),
    [
        (AdapterKind.RTSP, "rtsp://cam/main", "rtsp"),
        (AdapterKind.ONVIF, "rtsp://cam/main", "rtsp"),
        (AdapterKind.ONVIF, "http://cam/onvif/device_service", "onvif"),
        (AdapterKind.HTTP_SNAPSHOT, "http://cam/snap.jpg", "http_snapshot"),
        (AdapterKind.VLC, "http://cam/live.m3u8", "vlc"),
        (AdapterKind.RTSP, "http://cam/x", None),
    ],
)
def test_each_camera_is_checked_through_the_adapter_that_reads_its_address(
    adapter: AdapterKind, address: str, name: str | None
) -> None:
    assert source_adapter(adapter, address) == name
