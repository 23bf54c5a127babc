"""Pure: ONVIF `Notification` -> `NormalizedEvent`, one parser per topic.

Topics understood (kind, the data item holding the state):

==============================================================  =============  ============
topic                                                           kind           state item
==============================================================  =============  ============
tns1:RuleEngine/CellMotionDetector/Motion                       motion         IsMotion
tns1:VideoSource/MotionAlarm                                    motion         State
tns1:RuleEngine/MotionRegionDetector/Motion  (Profile T)        motion         State
tns1:RuleEngine/LineDetector/Crossed                            line_crossing  (one-off)
tns1:RuleEngine/FieldDetector/ObjectsInside                     intrusion      IsInside
tns1:RuleEngine/TamperDetector/Tamper                           tamper         IsTamper
tns1:VideoSource/GlobalSceneChange/ImagingService               tamper         State
tns1:VideoSource/GlobalSceneChange/AnalyticsService             tamper         State
tns1:VideoSource/GlobalSceneChange/RecordingService             tamper         State
tns1:RuleEngine/MyRuleDetector/PeopleDetect  (Reolink)          person         State
tns1:RuleEngine/MyRuleDetector/VehicleDetect  (Reolink)         vehicle        State
tns1:RuleEngine/PeopleDetector/People  (consumer cameras)       person         IsPeople
tns1:RuleEngine/ObjectDetection/Object  (by object class)       person/vehicle State
==============================================================  =============  ============

ObjectDetection names its class in a ClassTypes, ObjectType or Type data item (ONVIF's
tt:ClassType spells vehicle "Vehical"); the first recognised class decides the kind, and a
class that is neither person nor vehicle gives kind unknown. Image-quality topics
(ImageTooBlurry/Dark/Bright) are left unknown on purpose: darkness at night is not tamper.

Every other topic becomes kind unknown with the message kept in `raw`; `EventParser` logs
each such topic once.
"""

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType

from pydantic import ValidationError

from adapters.base import ProtocolError
from adapters.onvif.notifications import Notification
from schemas.events import DataValue, EventKind, NormalizedEvent

Parser = Callable[[Notification], NormalizedEvent]

SOURCE = "onvif"
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}  # xs:boolean lexical forms
_CLASS_KINDS = {
    "human": EventKind.PERSON,
    "person": EventKind.PERSON,
    "people": EventKind.PERSON,
    "pedestrian": EventKind.PERSON,
    "vehicle": EventKind.VEHICLE,
    "vehical": EventKind.VEHICLE,
    "car": EventKind.VEHICLE,
    "truck": EventKind.VEHICLE,
    "bus": EventKind.VEHICLE,
    "motorcycle": EventKind.VEHICLE,
    "bicycle": EventKind.VEHICLE,
    "bike": EventKind.VEHICLE,
}
_CLASS_ITEMS = ("ClassTypes", "ObjectType", "Type")

log = logging.getLogger(__name__)


def _event(
    notification: Notification,
    kind: EventKind,
    *,
    active: bool | None = None,
    data: Mapping[str, DataValue] | None = None,
) -> NormalizedEvent:
    return NormalizedEvent(
        kind=kind,
        occurred_at=notification.utc_time,
        # A deleted property has no state left to report.
        active=None if notification.property_operation == "Deleted" else active,
        initial=notification.property_operation == "Initialized",
        source=SOURCE,
        topic=notification.topic,
        subject=dict(notification.source),
        data=dict(notification.data if data is None else data),
        raw=notification.raw if kind is EventKind.UNKNOWN else None,
    )


def _boolean_item(
    notification: Notification, item: str
) -> tuple[bool | None, dict[str, DataValue]]:
    """The state item read as a boolean, and the data with that item typed."""
    data: dict[str, DataValue] = dict(notification.data)
    value = _BOOLEANS.get(notification.data.get(item, "").strip().lower())
    if value is not None:
        data[item] = value
    return value, data


def state(kind: EventKind, item: str) -> Parser:
    """A parser for a property event whose state is the boolean data item `item`."""

    def parse(notification: Notification) -> NormalizedEvent:
        active, data = _boolean_item(notification, item)
        return _event(notification, kind, active=active, data=data)

    return parse


def one_off(kind: EventKind) -> Parser:
    """A parser for an event that happens rather than holds (a crossing): no state."""

    def parse(notification: Notification) -> NormalizedEvent:
        return _event(notification, kind)

    return parse


def object_class(notification: Notification) -> NormalizedEvent:
    """The kind from the object's class; see the module docstring."""
    names = next((notification.data[i] for i in _CLASS_ITEMS if i in notification.data), "")
    kinds = (_CLASS_KINDS.get(name.lower()) for name in names.split())
    kind = next((k for k in kinds if k is not None), EventKind.UNKNOWN)
    active, data = _boolean_item(notification, "State")
    return _event(notification, kind, active=active, data=data)


def unknown(notification: Notification) -> NormalizedEvent:
    return _event(notification, EventKind.UNKNOWN)


PARSERS: Mapping[str, Parser] = MappingProxyType(
    {
        "tns1:RuleEngine/CellMotionDetector/Motion": state(EventKind.MOTION, "IsMotion"),
        "tns1:VideoSource/MotionAlarm": state(EventKind.MOTION, "State"),
        "tns1:RuleEngine/MotionRegionDetector/Motion": state(EventKind.MOTION, "State"),
        "tns1:RuleEngine/LineDetector/Crossed": one_off(EventKind.LINE_CROSSING),
        "tns1:RuleEngine/FieldDetector/ObjectsInside": state(EventKind.INTRUSION, "IsInside"),
        "tns1:RuleEngine/TamperDetector/Tamper": state(EventKind.TAMPER, "IsTamper"),
        "tns1:VideoSource/GlobalSceneChange/ImagingService": state(EventKind.TAMPER, "State"),
        "tns1:VideoSource/GlobalSceneChange/AnalyticsService": state(EventKind.TAMPER, "State"),
        "tns1:VideoSource/GlobalSceneChange/RecordingService": state(EventKind.TAMPER, "State"),
        "tns1:RuleEngine/MyRuleDetector/PeopleDetect": state(EventKind.PERSON, "State"),
        "tns1:RuleEngine/MyRuleDetector/VehicleDetect": state(EventKind.VEHICLE, "State"),
        "tns1:RuleEngine/PeopleDetector/People": state(EventKind.PERSON, "IsPeople"),
        "tns1:RuleEngine/ObjectDetection/Object": object_class,
    }
)
"""Parsers by canonical topic (see `notifications.normalize_topic`)."""


class EventParser:
    """Turns one camera's notifications into events; logs each unknown topic once.

    Keep one per subscription. It remembers at most `max_topics` unknown topics, so a camera
    inventing topics cannot grow it without bound (past that, unknown topics go unlogged).
    """

    def __init__(
        self,
        parsers: Mapping[str, Parser] = PARSERS,
        *,
        logger: logging.Logger = log,
        max_topics: int = 256,
    ) -> None:
        self._parsers = parsers
        self._logger = logger
        self._max_topics = max_topics
        self._logged: set[str] = set()

    def parse(self, notification: Notification) -> NormalizedEvent:
        """The event for `notification`; `ProtocolError` if it cannot be represented."""
        parser = self._parsers.get(notification.topic)
        if parser is None:
            self._note_unknown(notification.topic)
            parser = unknown
        try:
            return parser(notification)
        except ValidationError as exc:
            # Camera-supplied values exceed the contract's bounds; say where, not what.
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise ProtocolError(
                f"the notification on {notification.topic} does not fit an event: "
                f"{where}: {error['msg']}"
            ) from None

    def _note_unknown(self, topic: str) -> None:
        if topic in self._logged or len(self._logged) >= self._max_topics:
            return
        self._logged.add(topic)
        # %r: the topic comes from the camera and could carry line breaks into the log.
        self._logger.info("unknown ONVIF topic %r: its events are kept raw, kind unknown", topic)
