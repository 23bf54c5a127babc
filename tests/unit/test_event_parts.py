"""Pure parts of the events intake: page cursors, the subscription target of a registered
camera, routing keys, and the API's output model."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from hub.events.intake import Feed, feed_target
from hub.events.publisher import routing_key
from hub.paging import decode_cursor, encode_cursor
from hub.registry.secrets import CredentialBox, PlainCredentials
from schemas.events import CameraEvent, EventKind

BOX = CredentialBox(Fernet.generate_key())
SEALED = BOX.seal(PlainCredentials("operator", "s3cret:@/pw"))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 21, 5, 30, 0, 123456, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC) - timedelta(microseconds=1),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_a_cursor_gives_back_its_exact_time_and_id(moment: datetime) -> None:
    event_id = uuid.uuid4()

    cursor = encode_cursor(moment, event_id)

    assert decode_cursor(cursor) == (moment, event_id)
    assert len(cursor) <= 64  # the API's bound on the parameter


@pytest.mark.parametrize("text", ["", "not-a-cursor", "AAAA", "f" * 32, "€"])
def test_a_foreign_cursor_is_refused_with_the_fix(text: str) -> None:
    with pytest.raises(ValueError, match="start again without it"):
        decode_cursor(text)


def test_an_http_address_is_the_device_service_itself() -> None:
    feed = Feed(uuid.uuid4(), "http://192.0.2.10:8080/onvif/device_service", SEALED)

    target = feed_target(feed, BOX, timeout_s=3)

    assert target.uri == "http://192.0.2.10:8080/onvif/device_service"
    assert (target.username, target.password, target.timeout_s) == ("operator", "s3cret:@/pw", 3)


def test_a_stream_address_means_the_default_device_service_on_its_host() -> None:
    feed = Feed(uuid.uuid4(), "rtsp://user:other@192.0.2.11:554/Streaming/101", SEALED)

    target = feed_target(feed, BOX, timeout_s=3)

    # Port 554 is the stream's, not the device service's; the registry's credentials win.
    assert (target.host, target.port, target.uri) == ("192.0.2.11", None, None)
    assert target.username == "operator"


def test_credentials_sealed_with_another_key_are_refused_without_echo() -> None:
    feed = Feed(uuid.uuid4(), "http://192.0.2.10/onvif/device_service", SEALED)

    with pytest.raises(ValueError) as caught:
        feed_target(feed, CredentialBox(Fernet.generate_key()), timeout_s=3)

    assert "s3cret" not in str(caught.value)
    assert "s3cret" not in repr(feed)


def test_routing_keys_name_camera_and_kind() -> None:
    camera_id = uuid.UUID("7d0f3c1e-0000-4000-8000-000000000000")

    assert routing_key(camera_id, "line_crossing") == (
        "camera.7d0f3c1e-0000-4000-8000-000000000000.line_crossing"
    )


def test_a_stored_event_needs_its_camera_and_receipt_time() -> None:
    base = {
        "kind": "motion",
        "occurred_at": "2026-11-21T14:30:00+09:00",
        "source": "onvif",
        "topic": "tns1:RuleEngine/CellMotionDetector/Motion",
    }
    event = CameraEvent.model_validate(
        {**base, "camera_id": str(uuid.uuid4()), "received_at": "2026-11-21T05:30:01Z"}
    )

    assert event.kind is EventKind.MOTION
    assert event.occurred_at == datetime(2026, 11, 21, 5, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="camera_id"):
        CameraEvent.model_validate({**base, "received_at": "2026-11-21T05:30:01Z"})
