"""Probe real ONVIF peers on loopback: ipycam as the camera, small servers as broken devices."""

import asyncio
import errno
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import urlsplit

import aiohttp
import pytest

from adapters.base import (
    AdapterError,
    AuthenticationFailed,
    ConnectionRefused,
    NotSupported,
    ProtocolError,
    Target,
    Timeout,
    Unreachable,
)
from adapters.onvif.adapter import OnvifAdapter
from adapters.onvif.device import classify_error, clean_uri, probe
from adapters.registry import AdapterRegistry
from schemas.adapters import CameraDescription, Capability, StreamRole
from schemas.enums import AdapterKind
from tests.fixtures.onvif_servers import (
    CannedAnswer,
    Ipycam,
    canned_http_server,
    closed_port,
    ipycam_camera,
    silent_server,
)

USERNAME = "operator"
PASSWORD = "Pa55:w@rd/Secret!"  # URI-special characters, so a leak through a URL would show
WRONG_PASSWORD = "not-the-Secret-42"
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Router</title></head><body>Login</body></html>"
# A GetSystemDateAndTime answer cut off mid-element, as a crashing firmware sends it.
TRUNCATED_SOAP = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body>'
    b"<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:UTCDate"
)


@pytest.fixture(scope="module")
def camera() -> Iterator[Ipycam]:
    with ipycam_camera(USERNAME, PASSWORD) as running:
        yield running


@pytest.fixture(scope="module")
def description(camera: Ipycam) -> CameraDescription:
    target = Target.from_uri(camera.device_url, username=USERNAME, password=PASSWORD)
    return asyncio.run(probe(target, timeout_s=10))


def assert_no_secret(text: str) -> None:
    for secret in (PASSWORD, WRONG_PASSWORD):
        assert secret not in text


def test_probe_reports_the_identity_ipycam_serves(
    camera: Ipycam, description: CameraDescription
) -> None:
    assert description.adapter is AdapterKind.ONVIF
    assert description.manufacturer == camera.manufacturer == "PythonCam"
    assert description.model == camera.model == "VirtualCam-1"
    assert description.firmware == camera.firmware == "1.3.0"
    assert description.serial == camera.serial
    assert description.hardware_id == "PY-HW-01"


def test_probe_lists_both_profiles_with_rtsp_uris_and_picks_main_and_sub(
    camera: Ipycam, description: CameraDescription
) -> None:
    streams = {stream.token: stream for stream in description.streams}
    assert set(streams) == {"Profile_Main", "Profile_Sub"}
    main, sub = description.main_stream, description.sub_stream
    assert main is not None and sub is not None
    assert (main.token, main.role) == ("Profile_Main", StreamRole.MAIN)
    assert (sub.token, sub.role) == ("Profile_Sub", StreamRole.SUB)
    assert (main.width, main.height) == camera.main_size
    assert (sub.width, sub.height) == camera.sub_size
    assert main.uri == f"rtsp://127.0.0.1:{camera.rtsp_port}/video_main"
    assert sub.uri == f"rtsp://127.0.0.1:{camera.rtsp_port}/video_sub"
    for stream in description.streams:
        assert stream.codec == "H264"
        assert stream.uri is not None and urlsplit(stream.uri).username is None
    assert (main.fps, main.bitrate_kbps) == (30.0, 8000)


def test_probe_finds_the_snapshot_uri_ptz_and_a_small_clock_offset(
    camera: Ipycam, description: CameraDescription
) -> None:
    assert description.snapshot_uri == f"http://127.0.0.1:{camera.port}/snapshot.jpg"
    # ipycam lists a PTZ service and PTZ configurations in its profiles.
    assert description.ptz is True
    assert description.capabilities == [Capability.PTZ, Capability.SNAPSHOT]
    # Same machine, same clock: only the one-second resolution of the answer remains.
    assert description.clock_offset_s is not None
    assert abs(description.clock_offset_s) < 2


def test_the_description_round_trips_through_json(description: CameraDescription) -> None:
    assert CameraDescription.model_validate_json(description.model_dump_json()) == description


def test_adapter_from_the_registry_probes_and_takes_a_jpeg_snapshot(camera: Ipycam) -> None:
    adapter = AdapterRegistry.installed().create("onvif")
    assert isinstance(adapter, OnvifAdapter) and adapter.kind is AdapterKind.ONVIF
    target = Target(host="127.0.0.1", port=camera.port, username=USERNAME, password=PASSWORD)
    assert asyncio.run(adapter.probe(target)).model == "VirtualCam-1"
    # ipycam guards its snapshot with HTTP basic auth once credentials are set.
    image = asyncio.run(adapter.snapshot(target))
    assert image.startswith(b"\xff\xd8") and image.endswith(b"\xff\xd9")
    assert len(image) > 10_000  # a real frame of the shared video, not a blank


def test_wrong_password_is_authentication_failed_without_the_password(
    camera: Ipycam, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    target = Target.from_uri(camera.device_url, username=USERNAME, password=WRONG_PASSWORD)
    with pytest.raises(AuthenticationFailed) as caught:
        asyncio.run(probe(target, timeout_s=10))
    assert "Sender not authorized" in caught.value.message
    assert caught.value.code == "authentication_failed"
    assert_no_secret(str(caught.value))
    assert_no_secret(caplog.text)


def test_wrong_password_fails_the_snapshot_too(camera: Ipycam) -> None:
    target = Target(host="127.0.0.1", port=camera.port, username=USERNAME, password=WRONG_PASSWORD)
    with pytest.raises(AuthenticationFailed) as caught:
        asyncio.run(OnvifAdapter().snapshot(target))
    assert_no_secret(str(caught.value))


def test_no_credentials_on_a_camera_that_wants_them_is_authentication_failed(
    camera: Ipycam,
) -> None:
    with pytest.raises(AuthenticationFailed, match="GetSystemDateAndTime"):
        asyncio.run(probe(Target.from_uri(camera.device_url), timeout_s=10))


def probe_failure(target: Target, timeout_s: float = 5) -> tuple[AdapterError, float]:
    started = time.monotonic()
    with pytest.raises(AdapterError) as caught:
        asyncio.run(probe(target, timeout_s=timeout_s))
    return caught.value, time.monotonic() - started


def test_refused_port_is_connection_refused() -> None:
    port = closed_port()
    error, _ = probe_failure(
        Target(host="127.0.0.1", port=port, username=USERNAME, password=PASSWORD)
    )
    assert isinstance(error, ConnectionRefused)
    assert f"127.0.0.1:{port}" in error.message
    assert_no_secret(str(error))


def test_a_host_that_never_answers_times_out_within_the_timeout() -> None:
    with silent_server() as port:
        error, elapsed = probe_failure(
            Target(host="127.0.0.1", port=port, username=USERNAME, password=PASSWORD),
            timeout_s=1,
        )
    assert isinstance(error, Timeout)
    assert "no answer within 1 s" in error.message
    assert elapsed < 5  # one bounded call, then the probe gives up
    assert_no_secret(str(error))


def test_an_html_web_server_is_not_supported() -> None:
    with canned_http_server(CannedAnswer(200, "text/html", HTML_PAGE)) as port:
        error, _ = probe_failure(
            Target(host="127.0.0.1", port=port, username=USERNAME, password=PASSWORD)
        )
    assert isinstance(error, NotSupported)
    assert "HTML" in error.message and "not an ONVIF device service" in error.message
    assert_no_secret(str(error))


def test_a_404_without_body_is_not_supported() -> None:
    with canned_http_server(CannedAnswer(404, "text/plain", b"")) as port:
        error, _ = probe_failure(Target(host="127.0.0.1", port=port))
    assert isinstance(error, NotSupported)
    assert "HTTP 404" in error.message


def test_malformed_soap_is_a_protocol_error() -> None:
    answer = CannedAnswer(200, "application/soap+xml; charset=utf-8", TRUNCATED_SOAP)
    with canned_http_server(answer) as port:
        error, _ = probe_failure(
            Target(host="127.0.0.1", port=port, username=USERNAME, password=PASSWORD)
        )
    assert isinstance(error, ProtocolError)
    assert "malformed SOAP answer" in error.message
    assert_no_secret(str(error))


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ("rtsp://admin:secret@10.0.0.5:554/main", "rtsp://10.0.0.5:554/main"),
        (
            "http://10.0.0.5/snap.cgi?chn=1&user=admin&pwd=secret",
            "http://10.0.0.5/snap.cgi?chn=1",
        ),
        ("rtsp://[fe80::1]/main", None),  # the registry's URI schema holds no IPv6 literal
        ("", None),
    ],
)
def test_uris_the_camera_returns_lose_their_credentials(
    returned: str, expected: str | None
) -> None:
    assert clean_uri(returned) == expected


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (OSError(errno.EHOSTUNREACH, "No route to host"), Unreachable),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), Unreachable),
        (
            aiohttp.ClientConnectorDNSError(
                SimpleNamespace(host="cam.invalid", port=80, ssl=None),  # type: ignore[arg-type]
                OSError(-2, "Name or service not known"),
            ),
            Unreachable,
        ),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), ConnectionRefused),
        (TimeoutError(), Timeout),
    ],
)
def test_failures_that_loopback_cannot_stage_map_to_their_codes(
    raised: Exception, expected: type[AdapterError]
) -> None:
    # No route and no DNS answer need other hosts; the tests send nothing off loopback, so
    # the mapping itself is checked here.
    error = classify_error(raised, "GetDeviceInformation at http://cam.invalid", 3)
    assert type(error) is expected
    assert error.message.startswith("GetDeviceInformation at http://cam.invalid: ")


def test_importing_the_adapter_leaves_the_hosts_logging_alone() -> None:
    # onvif-zeep-async calls logging.basicConfig(level=INFO) on import; the adapter undoes it.
    code = (
        "import logging, adapters.onvif.device; "
        "assert not logging.root.handlers and logging.root.level == logging.WARNING"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_probing_keeps_the_process_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # onvif-zeep-async's ONVIFCamera deletes them from os.environ; the adapter puts them back.
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    with pytest.raises(ConnectionRefused):
        asyncio.run(probe(Target(host="127.0.0.1", port=closed_port()), timeout_s=5))
    assert os.environ.get("http_proxy") == "http://127.0.0.1:9"
