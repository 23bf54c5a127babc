"""`c4hub camera probe URL --adapter NAME` as an operator runs it, against the HTTP camera on
loopback: the snapshot and VLC adapters, picked by name rather than by the URL's scheme."""

import os
import subprocess
from collections.abc import Iterator

import pytest

from schemas.adapters import CameraDescription
from tests.e2e.camera_cli import C4HUB, c4hub
from tests.fixtures.http_camera import HEIGHT, PASSWORD, USERNAME, WIDTH, HttpCamera, http_camera


@pytest.fixture(scope="module")
def camera() -> Iterator[HttpCamera]:
    with http_camera() as running:
        yield running


def one_line_error(proc: subprocess.CompletedProcess[str], prefix: str) -> str:
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    assert proc.stdout == ""
    return lines[0]


def test_http_snapshot_prints_the_jpeg_size_as_json(camera: HttpCamera) -> None:
    proc = c4hub(camera.url("/snap.jpg"), "--adapter", "http_snapshot")
    assert proc.returncode == 0, proc.stderr
    description = CameraDescription.model_validate_json(proc.stdout)
    assert description.adapter == "http_snapshot"
    assert description.snapshot_uri == camera.url("/snap.jpg")
    stream = description.main_stream
    assert stream is not None and (stream.width, stream.height) == (WIDTH, HEIGHT)


def test_http_snapshot_logs_in_with_digest_and_the_password_from_the_environment(
    camera: HttpCamera,
) -> None:
    proc = c4hub(
        camera.url("/digest/snap.jpg"),
        "--adapter",
        "http_snapshot",
        "--user",
        USERNAME,
        password=PASSWORD,
    )
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout


def test_http_snapshot_404_is_one_line_with_the_snapshot_hint(camera: HttpCamera) -> None:
    proc = c4hub(
        camera.url("/nope.jpg"), "--adapter", "http_snapshot", "--user", USERNAME, password=PASSWORD
    )
    line = one_line_error(proc, "error: stream_not_found: ")
    assert "hint: check the snapshot path" in line and PASSWORD not in line


def test_vlc_prints_the_codec_of_an_mp4_over_http(camera: HttpCamera) -> None:
    proc = c4hub(camera.url("/video.mp4"), "--adapter", "vlc", "--timeout", "10")
    assert proc.returncode == 0, proc.stderr
    stream = CameraDescription.model_validate_json(proc.stdout).main_stream
    assert stream is not None and (stream.codec, stream.width, stream.height) == (
        "H264",
        WIDTH,
        HEIGHT,
    )


def test_vlc_without_libvlc_is_one_line_saying_what_to_install(camera: HttpCamera) -> None:
    env = {k: v for k, v in os.environ.items() if k != "C4HUB_CAMERA_PASSWORD"}
    env["PYTHON_VLC_LIB_PATH"] = "/nonexistent/libvlc.so.5"
    proc = subprocess.run(
        [C4HUB, "camera", "probe", camera.url("/video.mp4"), "--adapter", "vlc"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    line = one_line_error(proc, "error: not_supported: libVLC is not installed")
    assert "apt-get install libvlc5 vlc-plugin-base" in line


def test_an_unknown_adapter_name_lists_the_installed_ones() -> None:
    proc = c4hub("http://127.0.0.1/snap.jpg", "--adapter", "hikvision")
    line = one_line_error(proc, "error: no camera adapter named 'hikvision'")
    assert all(name in line for name in ("http_snapshot", "onvif", "rtsp", "vlc"))
