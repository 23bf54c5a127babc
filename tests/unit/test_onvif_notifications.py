import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.base import AuthenticationFailed, ProtocolError
from adapters.onvif.notifications import normalize_topic, parse_pull_messages
from adapters.onvif.soap import SoapFault
from tests.support import DATA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onvif"
MOCKUP = DATA / "onvif" / "agsh-server-mockup"
ONVIF_TOPICS = "http://www.onvif.org/ver10/topics"
FILLED = {
    "it.hostname": "192.0.2.10",
    "it.port": "8000",
    "it.pullPointUrl": "/onvif/subscription?Idx=0",
    "new Date().toISOString()": "2026-03-01T10:15:30.250Z",
}


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.xml").read_text(encoding="utf-8")


def mockup(name: str, *, keep_conditional_blocks: bool) -> str:
    """A mock-server template made concrete: `{{= … }}` filled, `{{? … }}` blocks kept or cut."""
    text = (MOCKUP / name).read_text(encoding="utf-8")
    if keep_conditional_blocks:
        text = re.sub(r"\{\{\?[^}]*\}\}", "", text)
    else:
        text = re.sub(r"\{\{\?[^}]+\}\}.*?\{\{\?\}\}", "", text, flags=re.DOTALL)
    text = re.sub(r"\{\{=(.*?)\}\}", lambda match: FILLED[match.group(1)], text)
    assert "{{" not in text, "a placeholder the test does not know"
    return text


def test_mockup_pull_messages_gives_its_two_motion_notifications() -> None:
    notifications = parse_pull_messages(mockup("PullMessages.xml", keep_conditional_blocks=True))
    assert len(notifications) == 2
    for notification in notifications:
        assert notification.topic == "tns1:RuleEngine/CellMotionDetector/Motion"
        assert notification.utc_time == datetime(2026, 3, 1, 10, 15, 30, 250000, tzinfo=UTC)
        assert notification.property_operation is None
        assert notification.source == {
            "VideoSourceConfigurationToken": "000",
            "VideoAnalyticsConfigurationToken": "000",
            "Rule": "000",
        }
        assert notification.data == {"IsMotion": "true"}


def test_mockup_pull_messages_without_its_conditional_blocks_is_empty() -> None:
    text = mockup("PullMessages.xml", keep_conditional_blocks=False)
    assert parse_pull_messages(text) == []


def test_raw_keeps_the_message_but_not_the_subscription_address() -> None:
    (notification,) = parse_pull_messages(fixture("unknown_topic"))
    assert 'Name="LogicalState"' in notification.raw and 'Value="true"' in notification.raw
    assert "subscription" not in notification.raw


def test_topics_get_canonical_prefixes_whatever_the_camera_declared() -> None:
    motion, storage = parse_pull_messages(fixture("vendor_prefixes"))
    assert motion.topic == "tns1:RuleEngine/CellMotionDetector/Motion"
    assert storage.topic == "tnsaxis:Storage/Disruption"


def test_utc_time_without_zone_is_utc_and_offsets_are_converted() -> None:
    motion, storage = parse_pull_messages(fixture("vendor_prefixes"))
    assert motion.utc_time == datetime(2026, 3, 1, 10, 15, 30, tzinfo=UTC)
    assert storage.utc_time == datetime(2026, 3, 1, 1, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  tns1:VideoSource/MotionAlarm\n", "tns1:VideoSource/MotionAlarm"),
        ("ns9:VideoSource/MotionAlarm//.", "tns1:VideoSource/MotionAlarm"),
        ("vendor:Custom/Thing", "vendor:Custom/Thing"),  # unknown namespace: kept as written
        ("undeclared:Custom/Thing", "undeclared:Custom/Thing"),
        ("NoPrefix/Thing", "NoPrefix/Thing"),
    ],
)
def test_normalize_topic(text: str, expected: str) -> None:
    prefixes = {"tns1": ONVIF_TOPICS, "ns9": ONVIF_TOPICS, "vendor": "http://example.com/t"}
    assert normalize_topic(text, prefixes) == expected


def test_key_items_join_source_items() -> None:
    (notification,) = parse_pull_messages(fixture("field_objects_inside"))
    assert notification.source["Rule"] == "Yard" and notification.source["ObjectId"] == "3"
    assert notification.data == {"IsInside": "true"}
    assert notification.property_operation == "Changed"


@pytest.mark.parametrize("replacement", ["", 'UtcTime="yesterday"'], ids=["missing", "unreadable"])
def test_missing_or_unreadable_utc_time_falls_back_to_current_time(replacement: str) -> None:
    text = fixture("motion_alarm").replace('UtcTime="2026-03-01T10:15:30.250Z"', replacement)
    (notification,) = parse_pull_messages(text)
    assert notification.utc_time == datetime(2026, 3, 1, 10, 15, 31, tzinfo=UTC)


def test_no_time_at_all_is_a_protocol_error() -> None:
    text = fixture("motion_alarm")
    text = re.sub(r"<tev:CurrentTime>.*?</tev:CurrentTime>", "", text)
    text = re.sub(r' UtcTime="[^"]*"', "", text)
    with pytest.raises(ProtocolError, match="no valid UtcTime"):
        parse_pull_messages(text)


def test_bytes_are_accepted() -> None:
    (notification,) = parse_pull_messages(fixture("motion_alarm").encode("utf-8"))
    assert notification.topic == "tns1:VideoSource/MotionAlarm"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Envelope><Body>&lol2;</Body></Envelope>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Envelope><Body>&secret;</Body></Envelope>"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not well-formed"),
        (fixture("motion_alarm")[:700], "not well-formed"),
        ("HTTP/1.1 404 Not Found", "not well-formed"),
        ("<html><body><h1>It works!</h1></body></html>", "not a SOAP envelope"),
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL_ENTITY, "DTD"),
        ('<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"/>', "no Body"),
        (fixture("motion_alarm").replace("PullMessagesResponse", "Renew"), "no PullMessages"),
        (fixture("motion_alarm").replace("wsnt:Topic", "wsnt:Subject"), "no Topic"),
        (fixture("motion_alarm").replace(' Value="true"', ""), "lacks its Name or Value"),
        (fixture("motion_alarm").replace("tt:Message", "tt:Note"), "no tt:Message"),
    ],
)
def test_malformed_answers_are_protocol_errors(text: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message) as caught:
        parse_pull_messages(text)
    assert caught.value.code == "protocol_error"


def test_the_mockups_own_malformed_error_file_is_a_protocol_error() -> None:
    # Its XML declaration uses typographic quotes and its SOAP-ENV prefix is undeclared.
    with pytest.raises(ProtocolError, match="line 1, column 14"):
        parse_pull_messages((MOCKUP / "Error.xml").read_text(encoding="utf-8"))


def test_sender_not_authorized_fault_is_an_authentication_failure() -> None:
    with pytest.raises(AuthenticationFailed, match="Sender not Authorized") as caught:
        parse_pull_messages(fixture("fault_not_authorized"))
    assert caught.value.code == "authentication_failed"


def test_other_faults_carry_their_codes_and_reason() -> None:
    with pytest.raises(SoapFault) as caught:
        parse_pull_messages(fixture("fault_resource_unknown"))
    fault = caught.value
    assert fault.codes == ("SOAP-ENV:Receiver", "wsrf-rw:ResourceUnknownFault")
    assert fault.reason == "The subscription has expired"
    assert isinstance(fault, ProtocolError) and fault.code == "protocol_error"


SOAP11_FAULT = """<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
<faultcode>s:Client</faultcode><faultstring>Sender not authorized</faultstring>
</s:Fault></s:Body></s:Envelope>"""


def test_a_soap_1_1_not_authorized_fault_is_an_authentication_failure() -> None:
    with pytest.raises(AuthenticationFailed, match="Sender not authorized"):
        parse_pull_messages(SOAP11_FAULT)


def test_a_soap_1_1_fault_keeps_its_code_and_reason() -> None:
    text = SOAP11_FAULT.replace("Sender not authorized", "Action not supported")
    with pytest.raises(SoapFault) as caught:
        parse_pull_messages(text)
    assert (caught.value.codes, caught.value.reason) == (("s:Client",), "Action not supported")
