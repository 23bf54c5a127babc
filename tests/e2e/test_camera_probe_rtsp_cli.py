"""`c4hub camera probe rtsp://…` as an operator runs it, against GStreamer's RTSP server."""

from schemas.adapters import CameraDescription
from tests.e2e.camera_cli import c4hub
from tests.fixtures.rtsp_server import (
    HEIGHT,
    USERNAME,
    WIDTH,
    rtsp_base_url,
    rtsp_private_url,
)
from tests.fixtures.rtsp_server import PASSWORD as CAMERA_PASSWORD
from tests.support import free_port

__all__ = ["rtsp_base_url", "rtsp_private_url"]  # the fixtures, used by name below

PASSWORD = "cli-rtsp-Secret"


def test_probe_prints_the_stream_codec_as_json(rtsp_base_url: str) -> None:
    proc = c4hub(f"{rtsp_base_url}/clean", "--timeout", "10")
    assert proc.returncode == 0, proc.stderr
    description = CameraDescription.model_validate_json(proc.stdout)
    stream = description.main_stream
    assert stream is not None
    assert (stream.codec, stream.width, stream.height) == ("H264", WIDTH, HEIGHT)
    assert '"codec": "H264"' in proc.stdout


def test_unknown_path_is_one_line_with_a_hint_and_no_password(rtsp_base_url: str) -> None:
    proc = c4hub(f"{rtsp_base_url}/nope", "--user", "operator", password=PASSWORD)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: stream_not_found: "), proc.stderr
    assert "hint: check the stream path" in proc.stderr
    assert PASSWORD not in proc.stderr and proc.stdout == ""


def test_closed_port_is_connection_refused_with_the_rtsp_hint() -> None:
    proc = c4hub(f"rtsp://operator:{PASSWORD}@127.0.0.1:{free_port()}/main")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: connection_refused: "), proc.stderr
    assert "check the RTSP port (often 554)" in proc.stderr
    assert PASSWORD not in proc.stderr


def test_probe_logs_in_with_the_user_and_the_password_from_the_environment(
    rtsp_private_url: str,
) -> None:
    proc = c4hub(f"{rtsp_private_url}/clean", "--user", USERNAME, password=CAMERA_PASSWORD)
    assert proc.returncode == 0, proc.stderr
    assert CameraDescription.model_validate_json(proc.stdout).main_stream is not None
    assert CAMERA_PASSWORD not in proc.stdout


def test_wrong_password_is_authentication_failed_without_the_password(
    rtsp_private_url: str,
) -> None:
    proc = c4hub(f"{rtsp_private_url}/clean", "--user", USERNAME, password=PASSWORD)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: authentication_failed: "), proc.stderr
    assert PASSWORD not in proc.stderr
