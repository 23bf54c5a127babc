from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from schemas.adapters import CameraDescription, Capability, StreamProfile, StreamRole
from schemas.enums import AdapterKind
from schemas.events import EventKind, NormalizedEvent

PROBED = "2026-03-01T10:00:00Z"


def description(**fields: Any) -> CameraDescription:
    return CameraDescription.model_validate({"adapter": "onvif", "probed_at": PROBED, **fields})


def stream(token: str, role: str = "other", **fields: Any) -> dict[str, Any]:
    return {"token": token, "role": role, **fields}


def event(**fields: Any) -> NormalizedEvent:
    base = {"kind": "motion", "occurred_at": PROBED, "source": "onvif", "topic": "tns1:X"}
    return NormalizedEvent.model_validate({**base, **fields})


def test_description_of_a_full_probe_round_trips_through_json() -> None:
    probed = description(
        manufacturer="Hanwha",
        model="XNO-6080R",
        streams=[
            stream("profile_1", "main", uri="rtsp://10.0.0.5/profile1", codec="H265",
                   width=1920, height=1080, fps=30.0, bitrate_kbps=4096),
            stream("profile_2", "sub", uri="rtsp://10.0.0.5/profile2", width=640, height=360),
        ],
        snapshot_uri="http://10.0.0.5/stw-cgi/video.cgi?msubmenu=snapshot",
        ptz=True,
        capabilities=["ptz", "events", "events"],
        clock_offset_s=-2.5,
    )  # fmt: skip
    assert CameraDescription.model_validate_json(probed.model_dump_json()) == probed
    assert probed.capabilities == [Capability.EVENTS, Capability.PTZ]


def test_main_and_sub_stream_are_found_by_role() -> None:
    probed = description(streams=[stream("a"), stream("b", "sub"), stream("c", "main")])
    assert probed.main_stream is not None and probed.main_stream.token == "c"
    assert probed.sub_stream is not None and probed.sub_stream.token == "b"


def test_main_stream_falls_back_to_the_first_and_sub_stream_does_not() -> None:
    probed = description(streams=[stream("first"), stream("second")])
    assert probed.main_stream is not None and probed.main_stream.token == "first"
    assert probed.sub_stream is None
    assert description().main_stream is None


@pytest.mark.parametrize(
    "fields",
    [
        {"streams": [stream("a", "main"), stream("b", "main")]},
        {"streams": [stream("a", "sub"), stream("b", "sub")]},
        {"streams": [stream("a"), stream("a")]},
        {"streams": [stream("a", uri="rtsp://admin:secret@10.0.0.5/main")]},
        {"snapshot_uri": "http://admin:secret@10.0.0.5/snap.jpg"},
        {"ptz": True},
        {"capabilities": ["ptz"]},
        {"capabilities": ["teleport"]},
        {"probed_at": "2026-03-01T10:00:00"},
        {"probed_at": 1772359200},
        {"clock_offset_s": float("inf")},
        {"streams": [stream("a", width=0)]},
        {"streams": [stream("a", fps=0)]},
        {"streams": [stream("a", codec="H 264")]},
        {"serial": ""},
        {"adapter": "hikvision"},
        {"location": "roof"},
    ],
)
def test_description_rejects_bad_fields(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        description(**fields)


def test_probed_at_is_stored_in_utc() -> None:
    probed = description(probed_at="2026-03-01T19:00:00+09:00")
    assert probed.probed_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert probed.probed_at.utcoffset() == timedelta(0)


def test_description_is_frozen_and_its_json_schema_omits_derived_streams() -> None:
    probed = description()
    with pytest.raises(ValidationError):
        probed.adapter = AdapterKind.RTSP  # type: ignore[misc]
    properties = CameraDescription.model_json_schema()["properties"]
    assert "main_stream" not in properties and "streams" in properties


def test_stream_role_defaults_to_other() -> None:
    assert StreamProfile(token="t").role is StreamRole.OTHER


def test_event_kinds_are_what_cameras_and_analytics_report_not_health() -> None:
    assert {kind.value for kind in EventKind} == {
        "motion", "line_crossing", "intrusion", "tamper", "person", "vehicle", "unknown",
        "loitering", "missing_object", "crowding", "plate",
    }  # fmt: skip


def test_event_time_is_converted_to_utc() -> None:
    happened = event(occurred_at=datetime(2026, 3, 1, 19, tzinfo=timezone(timedelta(hours=9))))
    assert happened.occurred_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert happened.occurred_at.tzinfo is UTC


def test_event_defaults_give_a_fresh_id_and_no_camera() -> None:
    first, second = event(), event()
    assert first.id != second.id and first.camera_id is None
    assert first.active is None and first.initial is False and first.raw is None


def test_event_data_keeps_json_types_through_a_round_trip() -> None:
    happened = event(data={"IsMotion": True, "Flag": "true", "Count": 3, "Ratio": 0.5})
    again = NormalizedEvent.model_validate_json(happened.model_dump_json())
    assert again == happened
    assert [type(v) for v in again.data.values()] == [bool, str, int, float]


@pytest.mark.parametrize(
    "fields",
    [
        {"occurred_at": "2026-03-01T10:00:00"},
        {"occurred_at": 1772359200},
        {"raw": "<tt:Message/>"},
        {"source": "ONVIF adapter"},
        {"topic": ""},
        {"kind": "offline"},
        {"data": {"Ratio": float("nan")}},
        {"subject": {"Rule": 1}},
        {"camera_id": "cam-1"},
        {"extra": 1},
    ],
)
def test_event_rejects_bad_fields(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        event(**fields)


def test_unknown_events_keep_raw() -> None:
    kept = event(kind="unknown", raw="<tt:Message/>", camera_id=str(uuid4()))
    assert kept.raw == "<tt:Message/>"
