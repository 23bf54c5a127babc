"""`VlcAdapter` (libVLC, headless) against an HTTP camera and files on loopback, against the
GStreamer RTSP server (which Debian's libVLC cannot open), and against peers that fail."""

import asyncio
import io
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import cast

import av
import numpy as np
import pytest

from adapters.base import (
    AuthenticationFailed,
    CameraAdapter,
    ConnectionRefused,
    FrameSource,
    GrayFrame,
    NotSupported,
    StreamNotFound,
    Target,
    Timeout,
)
from adapters.registry import AdapterRegistry
from adapters.vlc import GRACE_S, NO_RTSP, VlcAdapter, rtsp_support
from schemas.enums import AdapterKind
from tests.fixtures.http_camera import (
    HEIGHT,
    PASSWORD,
    SOURCE,
    USERNAME,
    WIDTH,
    HttpCamera,
    http_camera,
    jpeg_frames,
    jpeg_size,
)
from tests.fixtures.rtsp_server import rtsp_base_url
from tests.support import free_port

__all__ = ["rtsp_base_url"]  # the fixture, used by name below

WRONG = "wrong-Secret-7"
SOURCES = ["/video.mp4", "/mjpeg"]  # H.264 in MP4 over HTTP, and an MJPEG stream


@pytest.fixture(scope="module")
def camera() -> Iterator[HttpCamera]:
    with http_camera() as running:
        yield running


@pytest.fixture(scope="module")
def adapter() -> VlcAdapter:
    return VlcAdapter()


def target(
    camera: HttpCamera,
    path: str,
    timeout_s: float = 10,
    username: str | None = None,
    password: str | None = None,
) -> Target:
    return Target.from_uri(
        camera.url(path), username=username, password=password, timeout_s=timeout_s
    )


def gray(image: bytes) -> GrayFrame:
    with av.open(io.BytesIO(image), "r") as container:
        frame = next(container.decode(video=0))
    return cast(GrayFrame, frame.to_ndarray(format="gray"))


def first_source_frame() -> GrayFrame:
    with av.open(str(SOURCE)) as container:
        frame = next(container.decode(video=0))
    return cast(GrayFrame, frame.to_ndarray(format="gray"))


def mean_difference(a: GrayFrame, b: GrayFrame) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_the_adapter_is_installed_and_satisfies_both_protocols() -> None:
    adapter = AdapterRegistry.installed().create("vlc")
    assert isinstance(adapter, VlcAdapter)
    assert isinstance(adapter, CameraAdapter) and isinstance(adapter, FrameSource)
    assert adapter.kind is AdapterKind.VLC


@pytest.mark.parametrize(
    ("path", "codec", "fps"), [("/video.mp4", "H264", 12.5), ("/mjpeg", "JPEG", None)]
)
def test_probe_reports_codec_size_and_rate(
    camera: HttpCamera, adapter: VlcAdapter, path: str, codec: str, fps: float | None
) -> None:
    description = asyncio.run(adapter.probe(target(camera, path)))
    assert description.adapter is AdapterKind.VLC
    (stream,) = description.streams
    assert (stream.codec, stream.width, stream.height) == (codec, WIDTH, HEIGHT)
    assert stream.fps == (pytest.approx(fps) if fps else None)
    assert stream.uri == camera.url(path) and stream.token == path


@pytest.mark.parametrize("path", SOURCES)
def test_snapshot_is_a_jpeg_of_the_source_size(
    camera: HttpCamera, adapter: VlcAdapter, path: str
) -> None:
    image = asyncio.run(adapter.snapshot(target(camera, path)))
    assert image.startswith(b"\xff\xd8")
    assert jpeg_size(image) == (WIDTH, HEIGHT)


def test_frames_of_an_mp4_match_the_source_pictures(
    camera: HttpCamera, adapter: VlcAdapter
) -> None:
    frames = asyncio.run(adapter.frames(target(camera, "/video.mp4"), 5))
    assert len(frames) == 5
    assert all(f.shape == (HEIGHT, WIDTH) and f.dtype == np.uint8 for f in frames)
    # Rendered at the visible size, not stretched from the decoder's padded one.
    assert mean_difference(frames[0], first_source_frame()) < 4


def test_frames_of_an_mjpeg_stream_match_the_served_pictures(
    camera: HttpCamera, adapter: VlcAdapter
) -> None:
    frames = asyncio.run(adapter.frames(target(camera, "/mjpeg"), 3))
    assert all(f.shape == (HEIGHT, WIDTH) and f.dtype == np.uint8 for f in frames)
    served = [gray(image) for image in jpeg_frames()]
    assert min(mean_difference(frames[0], s) for s in served) < 4


def test_a_file_plays_and_a_missing_file_is_stream_not_found(adapter: VlcAdapter) -> None:
    present = Target(host="localhost", uri=SOURCE.as_uri(), timeout_s=10)
    description = asyncio.run(adapter.probe(present))
    stream = description.main_stream
    assert stream is not None and (stream.codec, stream.width) == ("H264", WIDTH)
    assert stream.uri is None  # a file:// URI is no stream URI a camera record can hold
    missing = Target(host="localhost", uri=SOURCE.with_name("nope.mp4").as_uri())
    with pytest.raises(StreamNotFound, match="no such file"):
        asyncio.run(adapter.probe(missing))


def test_basic_credentials_reach_libvlc(camera: HttpCamera, adapter: VlcAdapter) -> None:
    login = target(camera, "/basic/video.mp4", username=USERNAME, password=PASSWORD)
    frames = asyncio.run(adapter.frames(login, 2))
    assert frames[0].shape == (HEIGHT, WIDTH)
    # The media request itself (not only the first check) went to the protected path.
    assert camera.requests.count("/basic/video.mp4") >= 2


@pytest.mark.parametrize("password", [None, WRONG])
def test_missing_or_wrong_credentials_are_authentication_failed(
    camera: HttpCamera, adapter: VlcAdapter, password: str | None
) -> None:
    login = target(camera, "/basic/video.mp4", username=USERNAME, password=password)
    with pytest.raises(AuthenticationFailed, match="401") as caught:
        asyncio.run(adapter.probe(login))
    assert WRONG not in caught.value.message


def test_unknown_path_is_stream_not_found(camera: HttpCamera, adapter: VlcAdapter) -> None:
    with pytest.raises(StreamNotFound, match="404"):
        asyncio.run(adapter.snapshot(target(camera, "/nope.mp4")))


def test_a_body_libvlc_cannot_decode_is_not_supported(
    camera: HttpCamera, adapter: VlcAdapter
) -> None:
    with pytest.raises(NotSupported, match="libVLC found no picture"):
        asyncio.run(adapter.probe(target(camera, "/text.jpg")))


def test_a_closed_port_is_connection_refused(adapter: VlcAdapter) -> None:
    closed = Target.from_uri(f"http://127.0.0.1:{free_port()}/video.mp4", timeout_s=2)
    with pytest.raises(ConnectionRefused):
        asyncio.run(adapter.probe(closed))


@pytest.mark.parametrize("call", ["probe", "frames"])
def test_a_server_that_never_answers_times_out_within_the_bound(
    camera: HttpCamera, adapter: VlcAdapter, call: str
) -> None:
    timeout_s = 1.5
    stalled = target(camera, "/stall", timeout_s=timeout_s)
    started = time.monotonic()
    with pytest.raises(Timeout):
        if call == "probe":
            asyncio.run(adapter.probe(stalled))
        else:
            asyncio.run(adapter.frames(stalled, 3))
    assert time.monotonic() - started < timeout_s + GRACE_S


def test_frames_as_a_whole_are_bounded_by_their_timeout(
    camera: HttpCamera, adapter: VlcAdapter
) -> None:
    started = time.monotonic()  # 1000 pictures at 10 fps cannot come in 2 s
    with pytest.raises(Timeout, match=r"\d+ of 1000 pictures in time"):
        asyncio.run(adapter.frames(target(camera, "/mjpeg"), 1000, timeout=2))
    assert time.monotonic() - started < 2 + GRACE_S


def test_rtsp_is_refused_at_once_when_libvlc_has_no_live555(
    rtsp_base_url: str, adapter: VlcAdapter
) -> None:
    if rtsp_support() is not False:
        pytest.skip("this libVLC has an RTSP module (or its plugins cannot be found)")
    stream = Target.from_uri(f"{rtsp_base_url}/clean", timeout_s=10)
    for call in (adapter.probe, adapter.snapshot):
        started = time.monotonic()
        with pytest.raises(NotSupported) as caught:
            asyncio.run(call(stream))
        assert time.monotonic() - started < 2
        assert NO_RTSP in caught.value.message
    started = time.monotonic()
    with pytest.raises(NotSupported, match="use the rtsp adapter"):
        asyncio.run(adapter.frames(stream, 3))
    assert time.monotonic() - started < 2


def test_without_libvlc_the_adapter_says_what_to_install(camera: HttpCamera) -> None:
    # python-vlc loads the library PYTHON_VLC_LIB_PATH names: a missing one is no libVLC.
    script = (
        "import asyncio\n"
        "from adapters.base import NotSupported, Target\n"
        "from adapters.registry import AdapterRegistry\n"
        "adapter = AdapterRegistry.installed().create('vlc')\n"
        f"target = Target.from_uri('{camera.url('/video.mp4')}', timeout_s=5)\n"
        "try:\n"
        "    asyncio.run(adapter.probe(target))\n"
        "except NotSupported as exc:\n"
        "    print(exc.message)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHON_VLC_LIB_PATH": "/nonexistent/libvlc.so.5", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "libVLC is not installed" in proc.stdout
    assert "apt-get install libvlc5 vlc-plugin-base" in proc.stdout
    assert proc.stderr == ""
