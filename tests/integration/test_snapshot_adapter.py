"""`SnapshotAdapter` against an HTTP camera on loopback, and against peers that fail."""

import asyncio
import time
from collections.abc import Iterator
from urllib.parse import quote

import numpy as np
import pytest

from adapters.base import (
    AuthenticationFailed,
    CameraAdapter,
    ConnectionRefused,
    FrameSource,
    NotSupported,
    ProtocolError,
    StreamNotFound,
    Target,
    Timeout,
    Unreachable,
)
from adapters.registry import AdapterRegistry
from adapters.snapshot import SnapshotAdapter
from schemas.adapters import Capability, StreamRole
from schemas.enums import AdapterKind
from tests.fixtures.http_camera import (
    HEIGHT,
    PASSWORD,
    USERNAME,
    WIDTH,
    HttpCamera,
    http_camera,
    jpeg_frames,
    jpeg_size,
)
from tests.support import free_port

WRONG = "wrong-Secret-9"


@pytest.fixture(scope="module")
def camera() -> Iterator[HttpCamera]:
    with http_camera() as running:
        yield running


def target(
    camera: HttpCamera,
    path: str,
    timeout_s: float = 5,
    username: str | None = None,
    password: str | None = None,
) -> Target:
    return Target.from_uri(
        camera.url(path), username=username, password=password, timeout_s=timeout_s
    )


def test_the_adapter_is_installed_and_satisfies_both_protocols() -> None:
    adapter = AdapterRegistry.installed().create("http_snapshot")
    assert isinstance(adapter, SnapshotAdapter)
    assert isinstance(adapter, CameraAdapter) and isinstance(adapter, FrameSource)
    assert adapter.kind is AdapterKind.HTTP_SNAPSHOT


def test_probe_reports_the_jpeg_size_as_one_stream_with_the_snapshot_capability(
    camera: HttpCamera,
) -> None:
    description = asyncio.run(SnapshotAdapter().probe(target(camera, "/snap.jpg")))
    assert description.adapter is AdapterKind.HTTP_SNAPSHOT
    assert description.capabilities == [Capability.SNAPSHOT]
    assert description.snapshot_uri == camera.url("/snap.jpg")
    (stream,) = description.streams
    assert (stream.role, stream.codec, stream.width, stream.height) == (
        StreamRole.MAIN,
        "JPEG",
        WIDTH,
        HEIGHT,
    )
    assert stream.uri == camera.url("/snap.jpg") and stream.fps is None


def test_snapshot_is_the_jpeg_the_camera_served(camera: HttpCamera) -> None:
    image = asyncio.run(SnapshotAdapter().snapshot(target(camera, "/snap.jpg")))
    assert image in jpeg_frames()
    assert jpeg_size(image) == (WIDTH, HEIGHT)


def test_frames_poll_the_url_at_the_interval_as_grayscale_arrays(camera: HttpCamera) -> None:
    adapter = SnapshotAdapter(interval_s=0.2)
    started = time.monotonic()
    frames = asyncio.run(adapter.frames(target(camera, "/snap.jpg"), 3))
    elapsed = time.monotonic() - started
    assert len(frames) == 3
    assert all(f.shape == (HEIGHT, WIDTH) and f.dtype == np.uint8 for f in frames)
    assert elapsed >= 2 * 0.2  # two waits between three polls
    # The camera serves consecutive video frames: the polls are distinct pictures.
    assert not np.array_equal(frames[0], frames[2])


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_basic_and_digest_credentials_log_in(camera: HttpCamera, scheme: str) -> None:
    login = target(camera, f"/{scheme}/snap.jpg", username=USERNAME, password=PASSWORD)
    adapter = SnapshotAdapter(interval_s=0)
    description = asyncio.run(adapter.probe(login))
    assert description.main_stream is not None and description.main_stream.width == WIDTH
    assert PASSWORD not in description.model_dump_json()
    assert len(asyncio.run(adapter.frames(login, 2))) == 2


def test_credentials_in_the_url_move_to_the_target_and_log_in(camera: HttpCamera) -> None:
    userinfo = f"{USERNAME}:{quote(PASSWORD, safe='')}"
    url = f"http://{userinfo}@127.0.0.1:{camera.port}/digest/snap.jpg"
    image = asyncio.run(SnapshotAdapter().snapshot(Target.from_uri(url, timeout_s=5)))
    assert image.startswith(b"\xff\xd8")


@pytest.mark.parametrize("scheme", ["basic", "digest"])
@pytest.mark.parametrize("password", [None, WRONG])
def test_missing_or_wrong_credentials_are_authentication_failed(
    camera: HttpCamera, scheme: str, password: str | None
) -> None:
    login = target(camera, f"/{scheme}/snap.jpg", username=USERNAME, password=password)
    with pytest.raises(AuthenticationFailed, match="answered 401") as caught:
        asyncio.run(SnapshotAdapter().snapshot(login))
    assert WRONG not in caught.value.message


def test_unknown_path_is_stream_not_found(camera: HttpCamera) -> None:
    with pytest.raises(StreamNotFound, match="404"):
        asyncio.run(SnapshotAdapter().probe(target(camera, "/nope.jpg")))


def test_a_body_that_is_not_a_jpeg_is_not_supported(camera: HttpCamera) -> None:
    with pytest.raises(NotSupported, match=r"not a JPEG \(Content-Type text/html\)"):
        asyncio.run(SnapshotAdapter().probe(target(camera, "/text.jpg")))


def test_a_jpeg_that_does_not_decode_is_a_protocol_error(camera: HttpCamera) -> None:
    with pytest.raises(ProtocolError, match="does not decode"):
        asyncio.run(SnapshotAdapter().snapshot(target(camera, "/broken.jpg")))


def test_a_body_over_the_cap_is_refused_as_it_streams_in(camera: HttpCamera) -> None:
    adapter = SnapshotAdapter(max_bytes=512 * 1024)  # the camera sends 2 MiB, unsized
    with pytest.raises(ProtocolError, match="larger than 524288 bytes"):
        asyncio.run(adapter.snapshot(target(camera, "/big.jpg")))


@pytest.mark.parametrize("call", ["probe", "frames"])
def test_a_server_that_never_answers_times_out_within_the_bound(
    camera: HttpCamera, call: str
) -> None:
    timeout_s = 1.0
    adapter = SnapshotAdapter()
    stalled = target(camera, "/stall", timeout_s=timeout_s)
    started = time.monotonic()
    with pytest.raises(Timeout):
        if call == "probe":
            asyncio.run(adapter.probe(stalled))
        else:
            asyncio.run(adapter.frames(stalled, 3, timeout=5))
    assert time.monotonic() - started < timeout_s + 0.5


def test_frames_as_a_whole_are_bounded_by_their_timeout(camera: HttpCamera) -> None:
    adapter = SnapshotAdapter(interval_s=0.3)
    started = time.monotonic()
    with pytest.raises(Timeout, match=r"\d+ of 50 snapshots within 1 s"):
        asyncio.run(adapter.frames(target(camera, "/snap.jpg"), 50, timeout=1))
    assert time.monotonic() - started < 1.5


def test_a_closed_port_is_connection_refused() -> None:
    closed = Target.from_uri(f"http://127.0.0.1:{free_port()}/snap.jpg", timeout_s=2)
    with pytest.raises(ConnectionRefused, match="connection refused"):
        asyncio.run(SnapshotAdapter().probe(closed))


def test_a_host_that_does_not_resolve_is_unreachable() -> None:
    nowhere = Target.from_uri("http://camera.invalid/snap.jpg", timeout_s=2)  # RFC 6761
    with pytest.raises(Unreachable, match="cannot be reached"):
        asyncio.run(SnapshotAdapter().probe(nowhere))


def test_a_non_http_url_is_not_supported() -> None:
    rtsp = Target.from_uri("rtsp://127.0.0.1/snap.jpg", timeout_s=2)
    with pytest.raises(NotSupported, match="http:// and https:// URLs only"):
        asyncio.run(SnapshotAdapter().snapshot(rtsp))
