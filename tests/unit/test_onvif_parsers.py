import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.base import ProtocolError
from adapters.onvif.notifications import Notification, parse_pull_messages
from adapters.onvif.parsers import PARSERS, EventParser
from schemas.events import DataValue, EventKind, NormalizedEvent
from tests.support import DATA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onvif"
LOGGER = "adapters.onvif.parsers"


def notification(name: str) -> Notification:
    (only,) = parse_pull_messages((FIXTURES / f"{name}.xml").read_text(encoding="utf-8"))
    return only


def parse(name: str) -> NormalizedEvent:
    return EventParser().parse(notification(name))


# fixture, topic, kind, active, data after parsing
CASES: list[tuple[str, str, EventKind, bool | None, dict[str, DataValue]]] = [
    ("cell_motion_initialized", "tns1:RuleEngine/CellMotionDetector/Motion",
     EventKind.MOTION, False, {"IsMotion": False}),
    ("motion_alarm", "tns1:VideoSource/MotionAlarm", EventKind.MOTION, True, {"State": True}),
    ("motion_region", "tns1:RuleEngine/MotionRegionDetector/Motion",
     EventKind.MOTION, True, {"State": True}),
    ("line_crossed", "tns1:RuleEngine/LineDetector/Crossed",
     EventKind.LINE_CROSSING, None, {"ObjectId": "15"}),
    ("field_objects_inside", "tns1:RuleEngine/FieldDetector/ObjectsInside",
     EventKind.INTRUSION, True, {"IsInside": True}),
    ("tamper_detector", "tns1:RuleEngine/TamperDetector/Tamper",
     EventKind.TAMPER, True, {"IsTamper": True}),
    ("global_scene_change", "tns1:VideoSource/GlobalSceneChange/ImagingService",
     EventKind.TAMPER, True, {"State": True}),
    ("global_scene_change_analytics", "tns1:VideoSource/GlobalSceneChange/AnalyticsService",
     EventKind.TAMPER, False, {"State": False}),
    ("global_scene_change_recording", "tns1:VideoSource/GlobalSceneChange/RecordingService",
     EventKind.TAMPER, False, {"State": False}),
    ("people_detect", "tns1:RuleEngine/MyRuleDetector/PeopleDetect",
     EventKind.PERSON, True, {"State": True}),
    ("vehicle_detect", "tns1:RuleEngine/MyRuleDetector/VehicleDetect",
     EventKind.VEHICLE, False, {"State": False}),
    ("people_detector", "tns1:RuleEngine/PeopleDetector/People",
     EventKind.PERSON, True, {"IsPeople": True}),
    ("object_detection_vehicle", "tns1:RuleEngine/ObjectDetection/Object",
     EventKind.VEHICLE, True, {"ClassTypes": "Vehical", "State": True}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "topic", "kind", "active", "data"), CASES)
def test_each_topic_parser_with_a_captured_shape(
    name: str, topic: str, kind: EventKind, active: bool | None, data: dict[str, DataValue]
) -> None:
    event = parse(name)
    assert (event.topic, event.kind, event.active, event.data) == (topic, kind, active, data)
    assert event.source == "onvif" and event.raw is None and event.camera_id is None


def test_every_registered_topic_has_a_case() -> None:
    assert {case[1] for case in CASES} == set(PARSERS)


def test_mockup_motion_notification_becomes_an_active_motion_event() -> None:
    template = (DATA / "onvif" / "agsh-server-mockup" / "PullMessages.xml").read_text()
    text = re.sub(r"\{\{\?[^}]*\}\}", "", template)
    text = re.sub(r"\{\{=new Date\(\)\.toISOString\(\)\}\}", "2026-03-01T10:15:30Z", text)
    text = re.sub(r"\{\{=[^}]*\}\}", "x", text)  # address parts; parsers ignore them
    parser = EventParser()
    events = [parser.parse(n) for n in parse_pull_messages(text)]
    assert [(e.kind, e.active, e.initial) for e in events] == [(EventKind.MOTION, True, False)] * 2
    assert events[0].subject == {
        "VideoSourceConfigurationToken": "000",
        "VideoAnalyticsConfigurationToken": "000",
        "Rule": "000",
    }
    assert events[0].id != events[1].id


def test_initialized_state_is_marked_initial() -> None:
    assert parse("cell_motion_initialized").initial is True
    assert parse("motion_alarm").initial is False


def test_subject_holds_source_and_key_items() -> None:
    assert parse("field_objects_inside").subject == {
        "VideoSourceConfigurationToken": "VideoSourceConfig_1",
        "VideoAnalyticsConfigurationToken": "VideoAnalyticsConfig_1",
        "Rule": "Yard",
        "ObjectId": "3",
    }


def test_a_deleted_property_has_no_state() -> None:
    event = parse("deleted_property")
    assert (event.kind, event.active, event.data) == (EventKind.MOTION, None, {})


def test_an_unreadable_state_is_unknown_and_kept_as_text() -> None:
    event = EventParser().parse(replace(notification("motion_alarm"), data={"State": "maybe"}))
    assert event.active is None and event.data == {"State": "maybe"}


def test_an_unrecognised_object_class_is_unknown_with_raw_kept() -> None:
    event = parse("object_detection_animal")
    assert event.kind is EventKind.UNKNOWN
    assert event.raw is not None and 'Value="Animal"' in event.raw


def test_object_class_may_be_named_by_type_and_the_first_known_class_wins() -> None:
    base = notification("object_detection_vehicle")
    event = EventParser().parse(replace(base, data={"Type": "Face Human Vehicle"}))
    assert event.kind is EventKind.PERSON


def test_unknown_topic_is_kept_raw() -> None:
    event = parse("unknown_topic")
    assert event.kind is EventKind.UNKNOWN and event.topic == "tns1:Device/Trigger/DigitalInput"
    assert event.data == {"LogicalState": "true"} and event.subject == {
        "InputToken": "DIGIT_INPUT_000"
    }
    assert event.raw is not None and 'Name="LogicalState"' in event.raw


def test_unknown_topic_is_logged_once_per_parser(caplog: pytest.LogCaptureFixture) -> None:
    unknown = notification("unknown_topic")
    other = replace(unknown, topic="tns1:Device/HardwareFailure/FanFailure")
    first, second = EventParser(), EventParser()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for parser in (first, first, first, second):
            parser.parse(unknown)
        first.parse(other)
        first.parse(other)
        first.parse(notification("motion_alarm"))
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert messages == [
        "unknown ONVIF topic 'tns1:Device/Trigger/DigitalInput': its events are kept raw, "
        "kind unknown",
    ] * 2 + [
        "unknown ONVIF topic 'tns1:Device/HardwareFailure/FanFailure': its events are kept "
        "raw, kind unknown"
    ]


def test_unknown_topics_remembered_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    parser = EventParser(max_topics=2)
    unknown = notification("unknown_topic")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for index in range(5):
            event = parser.parse(replace(unknown, topic=f"tns1:Vendor/Topic{index}"))
            assert event.kind is EventKind.UNKNOWN
    assert len([r for r in caplog.records if r.name == LOGGER]) == 2


def test_a_notification_beyond_the_event_contract_is_a_protocol_error() -> None:
    oversized = replace(notification("line_crossed"), data={"ObjectId": "9" * 5000})
    with pytest.raises(ProtocolError, match=r"LineDetector/Crossed .*data\.ObjectId") as caught:
        EventParser().parse(oversized)
    assert "9999" not in caught.value.message


def test_events_round_trip_through_json() -> None:
    for name in ("field_objects_inside", "unknown_topic", "line_crossed"):
        event = parse(name)
        assert NormalizedEvent.model_validate_json(event.model_dump_json()) == event
