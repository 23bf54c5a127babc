"""Pure: a PullMessagesResponse (SOAP XML text) -> `Notification` records.

A notification is WS-BaseNotification's NotificationMessage carrying an ONVIF tt:Message::

    <wsnt:Topic Dialect="...ConcreteSet">tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>
    <wsnt:Message>
      <tt:Message UtcTime="2026-01-01T00:00:00Z" PropertyOperation="Changed">
        <tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="vsc0"/></tt:Source>
        <tt:Key>…</tt:Key>
        <tt:Data><tt:SimpleItem Name="IsMotion" Value="true"/></tt:Data>
      </tt:Message>
    </wsnt:Message>

Topics are rewritten to canonical prefixes (`tns1:` for ONVIF's topic namespace, whatever
prefix the camera declared), so parsers can be keyed by plain strings.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, tostring

from adapters.base import ProtocolError
from adapters.onvif.soap import Prefixes, SoapDocument, child, children, parse_envelope
from adapters.redaction import redact

# Topic namespace URI -> the prefix the ONVIF specifications and vendors' documents use.
CANONICAL_PREFIXES: Mapping[str, str] = {
    "http://www.onvif.org/ver10/topics": "tns1",
    "http://www.axis.com/2009/event/topics": "tnsaxis",
}


@dataclass(frozen=True, slots=True)
class Notification:
    topic: str  # canonical, e.g. tns1:RuleEngine/CellMotionDetector/Motion
    utc_time: datetime  # aware; the response's CurrentTime when the message has no UtcTime
    property_operation: str | None  # Initialized, Changed, Deleted; None for one-off events
    source: dict[str, str]  # Source and Key simple items: what the event is about
    data: dict[str, str]  # Data simple items; ElementItems (shapes, objects) are left in raw
    # The tt:Message element re-serialized (prefixes become ns0, ns1…; the topic is in `topic`),
    # kept for topics nobody parses. Redacted, in case an item echoes a URI with credentials.
    raw: str


def parse_pull_messages(xml: str | bytes) -> list[Notification]:
    """The notifications of a PullMessagesResponse, in the camera's order.

    Raises `ProtocolError` for malformed or unexpected answers and `AuthenticationFailed`
    when the camera answers "Sender not authorized".
    """
    document = parse_envelope(xml)
    response = child(document.body, "PullMessagesResponse")
    if response is None:
        raise ProtocolError("the SOAP body holds no PullMessagesResponse")
    current_time = _utc_time(_element_text(child(response, "CurrentTime")))
    return [
        _notification(document, message, current_time)
        for message in children(response, "NotificationMessage")
    ]


def normalize_topic(text: str, prefixes: Prefixes) -> str:
    """`text` with its prefix replaced by the canonical one for the namespace it names."""
    # Some firmware appends "//." to topics; it names the same topic.
    topic = text.strip().rstrip("/.")
    prefix, colon, path = topic.partition(":")
    canonical = CANONICAL_PREFIXES.get(prefixes.get(prefix, "")) if colon else None
    return f"{canonical}:{path}" if canonical else topic


def _notification(
    document: SoapDocument, message: Element, current_time: datetime | None
) -> Notification:
    topic_element = child(message, "Topic")
    topic_text = _element_text(topic_element)
    if topic_element is None or not topic_text:
        raise ProtocolError("a notification has no Topic")
    topic = normalize_topic(topic_text, document.prefixes[topic_element])
    body = child(child(message, "Message"), "Message")
    if body is None:
        raise ProtocolError(f"the notification on {topic} has no tt:Message")
    utc_time = _utc_time(body.get("UtcTime")) or current_time
    if utc_time is None:
        raise ProtocolError(f"the notification on {topic} has no valid UtcTime")
    return Notification(
        topic=topic,
        utc_time=utc_time,
        property_operation=body.get("PropertyOperation"),
        source={**_simple_items(body, "Source"), **_simple_items(body, "Key")},
        data=_simple_items(body, "Data"),
        raw=redact(tostring(body, encoding="unicode").strip()),
    )


def _simple_items(message: Element, section: str) -> dict[str, str]:
    items: dict[str, str] = {}
    container = child(message, section)
    if container is None:
        return items
    for item in children(container, "SimpleItem"):
        name, value = item.get("Name"), item.get("Value")
        if name is None or value is None:
            raise ProtocolError(f"a SimpleItem in {section} lacks its Name or Value")
        items[name] = value
    return items


def _utc_time(text: str | None) -> datetime | None:
    """An xs:dateTime as an aware UTC datetime; None when absent or unreadable."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    # The attribute is UTC by definition; some firmware leaves the zone out.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _element_text(element: Element | None) -> str | None:
    return element.text.strip() if element is not None and element.text else None
