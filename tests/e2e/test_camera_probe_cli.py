"""`c4hub camera probe` as an operator runs it: a real process against ipycam on loopback."""

import json
import subprocess
from collections.abc import Iterator

import pytest

from schemas.adapters import CameraDescription
from tests.e2e.camera_cli import c4hub
from tests.fixtures.onvif_servers import Ipycam, closed_port, ipycam_camera

USERNAME = "operator"
PASSWORD = "cli-Pa55:w@rd"
WRONG_PASSWORD = "cli-wrong-Secret"


@pytest.fixture(scope="module")
def camera() -> Iterator[Ipycam]:
    with ipycam_camera(USERNAME, PASSWORD) as running:
        yield running


def assert_one_line_error(proc: subprocess.CompletedProcess[str], prefix: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr


def test_probe_prints_the_description_as_json(camera: Ipycam) -> None:
    proc = c4hub(f"onvif://127.0.0.1:{camera.port}", "--user", USERNAME, password=PASSWORD)
    assert proc.returncode == 0, proc.stderr
    description = CameraDescription.model_validate_json(proc.stdout)
    assert (description.manufacturer, description.model) == ("PythonCam", "VirtualCam-1")
    main = description.main_stream
    assert main is not None and main.uri == f"rtsp://127.0.0.1:{camera.rtsp_port}/video_main"
    assert json.loads(proc.stdout)["snapshot_uri"].endswith("/snapshot.jpg")
    assert PASSWORD not in proc.stdout + proc.stderr


def test_probe_takes_the_password_option_and_the_device_service_url(camera: Ipycam) -> None:
    proc = c4hub(camera.device_url, "--user", USERNAME, "--password", PASSWORD, "--timeout", "5")
    assert proc.returncode == 0, proc.stderr
    assert CameraDescription.model_validate_json(proc.stdout).firmware == camera.firmware


def test_wrong_password_is_one_line_without_the_password(camera: Ipycam) -> None:
    proc = c4hub(camera.device_url, "--user", USERNAME, password=WRONG_PASSWORD)
    assert proc.returncode == 1
    assert_one_line_error(proc, "error: authentication_failed: ")
    assert "hint: check --user and the password" in proc.stderr
    assert WRONG_PASSWORD not in proc.stderr and PASSWORD not in proc.stderr


def test_credentials_in_the_url_stay_out_of_the_error() -> None:
    port = closed_port()
    proc = c4hub(f"http://{USERNAME}:{WRONG_PASSWORD}@127.0.0.1:{port}/onvif/device_service")
    assert proc.returncode == 1
    assert_one_line_error(proc, "error: connection_refused: ")
    assert WRONG_PASSWORD not in proc.stderr


def test_an_address_without_a_known_scheme_is_refused_with_the_forms_to_use() -> None:
    proc = c4hub(f"{USERNAME}:{WRONG_PASSWORD}@127.0.0.1")
    assert proc.returncode == 1
    assert_one_line_error(proc, "error: cannot tell how to talk to")
    assert "onvif://HOST[:PORT]" in proc.stderr
    assert WRONG_PASSWORD not in proc.stderr
