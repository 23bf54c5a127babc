"""Probe a device that answers with recorded responses of another camera (agsh/onvif mock-up):
a clock twelve years behind, service addresses on a LAN we must not follow, one profile."""

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.base import AuthenticationFailed, ProtocolError, Target
from adapters.onvif.device import probe
from schemas.adapters import Capability, StreamRole
from tests.fixtures.onvif_servers import AGSH_MOCKUP, CannedAnswer, agsh_camera, canned_http_server

USERNAME = "admin"
PASSWORD = "recorded-Secret-7"
CREATED = re.compile(rb"<(?:[\w]+:)?Created[^>]*>(\d{4})-")
NOT_AUTHORIZED = Path(__file__).parents[1] / "fixtures" / "onvif" / "fault_not_authorized.xml"


def test_recorded_camera_is_described_from_its_answers() -> None:
    with agsh_camera() as camera:
        target = Target.from_uri(camera.device_url, username=USERNAME, password=PASSWORD)
        description = asyncio.run(probe(target, timeout_s=10))
    assert (description.manufacturer, description.model) == ("Mockup Manufacturer", "Mockup Model")
    assert (description.firmware, description.hardware_id) == ("Mockup_15_14_13", "MOCKUP")
    [stream] = description.streams
    assert (stream.token, stream.role, stream.codec) == ("main", StreamRole.MAIN, "H264")
    assert (stream.width, stream.height, stream.fps, stream.bitrate_kbps) == (1920, 1080, 5.0, 1000)
    # URIs are reported as the camera gives them (without credentials), never fetched by a probe.
    assert stream.uri == "rtsp://192.168.68.111/h264main"
    # The recorded GetSnapshotUri answer never declares its SOAP-ENV prefix: snapshots are
    # optional, so the probe goes on without one rather than failing.
    assert description.snapshot_uri is None
    assert description.sub_stream is None  # one profile: no sub stream is invented
    assert description.ptz is True
    assert description.capabilities == [
        Capability.EVENTS,
        Capability.IMAGING,
        Capability.PTZ,
    ]


def test_clock_offset_is_measured_and_used_to_sign_requests() -> None:
    with agsh_camera() as camera:
        target = Target.from_uri(camera.device_url, username=USERNAME, password=PASSWORD)
        description = asyncio.run(probe(target, timeout_s=10))
    camera_clock = datetime(2014, 12, 24, 19, 14, 37, tzinfo=UTC)
    expected = (camera_clock - description.probed_at).total_seconds()
    assert description.clock_offset_s is not None
    assert abs(description.clock_offset_s - expected) < 5
    # Every call after the clock read carries a WS-Security timestamp in the camera's time.
    operations = [operation for operation, _ in camera.requests]
    assert operations[0] == "GetSystemDateAndTime"
    assert {"GetDeviceInformation", "GetServices", "GetProfiles", "GetStreamUri"} <= set(operations)
    for operation, body in camera.requests[1:]:
        created = CREATED.search(body)
        assert created is not None and created.group(1) == b"2014", operation
    # PasswordDigest: the password itself never travels.
    assert all(PASSWORD.encode() not in body for _, body in camera.requests)


def test_advertised_lan_addresses_are_not_followed() -> None:
    # The mock-up advertises its media service at http://192.168.68.111/onvif/services; the
    # media calls must still reach the address the probe was given (this loopback server).
    with agsh_camera() as camera:
        target = Target.from_uri(camera.device_url, username=USERNAME, password=PASSWORD)
        asyncio.run(probe(target, timeout_s=10))
    operations = [operation for operation, _ in camera.requests]
    assert {"GetProfiles", "GetStreamUri", "GetSnapshotUri"} <= set(operations)


def test_a_not_authorized_fault_with_http_400_is_authentication_failed() -> None:
    with agsh_camera(reject={"GetDeviceInformation"}, fault=NOT_AUTHORIZED.read_bytes()) as camera:
        target = Target.from_uri(camera.device_url, username=USERNAME, password=PASSWORD)
        with pytest.raises(AuthenticationFailed, match="GetDeviceInformation") as caught:
            asyncio.run(probe(target, timeout_s=10))
    assert PASSWORD not in str(caught.value)


def test_the_mockups_own_malformed_fault_is_a_protocol_error() -> None:
    # Error.xml declares its version with typographic quotes: not well-formed XML.
    answer = CannedAnswer(500, "application/soap+xml", (AGSH_MOCKUP / "Error.xml").read_bytes())
    with canned_http_server(answer) as port:
        target = Target(host="127.0.0.1", port=port, username=USERNAME, password=PASSWORD)
        with pytest.raises(ProtocolError, match="malformed SOAP"):
            asyncio.run(probe(target, timeout_s=5))
