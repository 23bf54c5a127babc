"""`RtspAdapter` against GStreamer's RTSP server on loopback, and against peers that fail."""

import asyncio
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise

import av
import pytest

from adapters.base import (
    AuthenticationFailed,
    ConnectionRefused,
    ProtocolError,
    StreamNotFound,
    Target,
    Timeout,
)
from adapters.rtsp import GRACE_S, RtspAdapter
from schemas.enums import AdapterKind
from tests.fixtures.rtsp_server import (
    HEIGHT,
    PASSWORD,
    SOURCE,
    USERNAME,
    WIDTH,
    rtsp_base_url,
    rtsp_private_url,
)
from tests.support import free_port

__all__ = ["rtsp_base_url", "rtsp_private_url"]  # the fixtures, used by name below


def source_facts() -> tuple[int, int, float]:
    with av.open(str(SOURCE)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate is not None
        return stream.codec_context.width, stream.codec_context.height, float(stream.average_rate)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_probe_reports_codec_size_and_rate_of_the_source(
    rtsp_base_url: str, transport: str
) -> None:
    adapter = RtspAdapter("tcp" if transport == "tcp" else "udp")
    target = Target.from_uri(f"{rtsp_base_url}/source", timeout_s=10)
    description = asyncio.run(adapter.probe(target))
    width, height, fps = source_facts()
    assert description.adapter is AdapterKind.RTSP
    (stream,) = description.streams
    assert description.main_stream == stream
    assert (stream.codec, stream.width, stream.height) == ("H264", width, height)
    assert stream.fps is not None and stream.fps == pytest.approx(fps, rel=0.05)
    assert stream.uri == f"{rtsp_base_url}/source" and stream.token == "/source"


def test_snapshot_is_a_jpeg_of_the_stream_size(rtsp_base_url: str) -> None:
    target = Target.from_uri(f"{rtsp_base_url}/clean", timeout_s=10)
    image = asyncio.run(RtspAdapter().snapshot(target))
    assert image.startswith(b"\xff\xd8")
    with av.open(io.BytesIO(image), "r") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (WIDTH, HEIGHT)


def test_frames_are_grayscale_arrays_of_the_stream_size(rtsp_base_url: str) -> None:
    target = Target.from_uri(f"{rtsp_base_url}/clean", timeout_s=10)
    frames = asyncio.run(RtspAdapter("udp").frames(target, 5))
    assert len(frames) == 5
    assert all(f.shape == (HEIGHT, WIDTH) and f.dtype.name == "uint8" for f in frames)


def test_unknown_path_is_stream_not_found_without_the_password(rtsp_base_url: str) -> None:
    target = Target.from_uri(
        f"{rtsp_base_url}/nope", username="operator", password=PASSWORD, timeout_s=5
    )
    with pytest.raises(StreamNotFound) as caught:
        asyncio.run(RtspAdapter().probe(target))
    assert "404" in caught.value.message and "/nope" in caught.value.message
    assert "Pa55" not in caught.value.message


def test_credentials_reach_the_server_and_stay_out_of_the_description(
    rtsp_private_url: str,
) -> None:
    # The password holds ":", "@", "/" and "%": it only works if percent-encoded for FFmpeg.
    target = Target.from_uri(
        f"{rtsp_private_url}/clean", username=USERNAME, password=PASSWORD, timeout_s=10
    )
    description = asyncio.run(RtspAdapter().probe(target))
    assert description.main_stream is not None
    assert description.main_stream.uri == f"{rtsp_private_url}/clean"
    assert (
        PASSWORD not in description.model_dump_json() and "%40" not in description.model_dump_json()
    )


@pytest.mark.parametrize("password", [None, "wrong-Secret"])
def test_missing_or_wrong_credentials_are_authentication_failed(
    rtsp_private_url: str, password: str | None
) -> None:
    target = Target.from_uri(
        f"{rtsp_private_url}/clean", username=USERNAME, password=password, timeout_s=5
    )
    with pytest.raises(AuthenticationFailed, match="401") as caught:
        asyncio.run(RtspAdapter().probe(target))
    assert "wrong-Secret" not in caught.value.message


def test_closed_port_is_connection_refused() -> None:
    target = Target.from_uri(f"rtsp://127.0.0.1:{free_port()}/clean", timeout_s=5)
    with pytest.raises(ConnectionRefused, match="connection refused"):
        asyncio.run(RtspAdapter().probe(target))


@contextmanager
def silent_server() -> Iterator[int]:
    """Accepts TCP connections and never answers; yields its port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port: int = listener.getsockname()[1]
        yield port


@pytest.mark.parametrize("call", ["probe", "frames"])
def test_a_server_that_says_nothing_times_out_within_the_bound(call: str) -> None:
    timeout_s = 1.5
    adapter = RtspAdapter()
    with silent_server() as port:
        target = Target.from_uri(f"rtsp://127.0.0.1:{port}/clean", timeout_s=timeout_s)
        started = time.monotonic()
        with pytest.raises(Timeout, match="no answer"):
            if call == "probe":
                asyncio.run(adapter.probe(target))
            else:
                asyncio.run(adapter.frames(target, 3))
        assert time.monotonic() - started < timeout_s + GRACE_S


class Relay:
    """A TCP relay on loopback in front of the RTSP server; it can go silent on demand.

    `stall()` stops passing the server's bytes on (they are read and dropped), as a camera
    whose encoder hangs keeps its connection open and sends nothing.
    """

    def __init__(self, upstream_port: int, port: int) -> None:
        self.upstream_port = upstream_port
        self.stalled = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", port))
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self.stalled.set()

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, may_stall: bool) -> None:
        try:
            while data := source.recv(65536):
                if not (may_stall and self.stalled.is_set()):
                    sink.sendall(data)
        except OSError:
            return


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_a_stream_that_stalls_midway_times_out_after_one_read_timeout(
    rtsp_base_url: str,
) -> None:
    relay = Relay(_port(rtsp_base_url), free_port())
    timeout_s = 2.0
    port = relay.listener.getsockname()[1]
    target = Target.from_uri(f"rtsp://127.0.0.1:{port}/clean", timeout_s=timeout_s)
    timer = threading.Timer(3.0, relay.stall)  # after the open, mid-way through the frames
    try:
        timer.start()
        started = time.monotonic()
        with pytest.raises(Timeout, match="no answer to read within 2 s"):
            asyncio.run(RtspAdapter().frames(target, 45, timeout=20))
        assert time.monotonic() - started < 3.0 + 2 * timeout_s + GRACE_S
    finally:
        timer.cancel()
        relay.close()


def test_a_stream_that_ends_says_how_many_frames_came(rtsp_base_url: str) -> None:
    target = Target.from_uri(f"{rtsp_base_url}/clean", timeout_s=5)
    with pytest.raises(ProtocolError, match=r"ended after \d+ of 500 frames"):
        asyncio.run(RtspAdapter().frames(target, 500, timeout=30))


def test_a_camera_that_comes_back_probes_again(rtsp_base_url: str) -> None:
    port = free_port()
    target = Target.from_uri(f"rtsp://127.0.0.1:{port}/clean", timeout_s=5)
    adapter = RtspAdapter()
    with pytest.raises(ConnectionRefused):
        asyncio.run(adapter.probe(target))
    relay = Relay(_port(rtsp_base_url), port)  # the camera is back on the same address
    try:
        description = asyncio.run(adapter.probe(target))
    finally:
        relay.close()
    assert description.main_stream is not None
    assert description.main_stream.width == WIDTH


def test_sample_yields_colour_frames_at_the_asked_rate_for_the_asked_time(
    rtsp_base_url: str,
) -> None:
    target = Target.from_uri(f"{rtsp_base_url}/clean", timeout_s=10)
    started = time.monotonic()
    samples = list(RtspAdapter().sample(target, fps=4, seconds=2))
    elapsed = time.monotonic() - started
    assert 6 <= len(samples) <= 9, len(samples)  # 4 a second for 2 s
    assert all(frame.shape == (216, 384, 3) for _, frame in samples)
    times = [at for at, _ in samples]
    assert times == sorted(times) and min(b - a for a, b in pairwise(times)) >= 0.2
    assert elapsed < 2 + 3  # the time asked for, plus opening the stream


def test_sample_of_a_closed_port_is_refused() -> None:
    target = Target.from_uri(f"rtsp://127.0.0.1:{free_port()}/x", timeout_s=3)
    with pytest.raises(ConnectionRefused):
        list(RtspAdapter().sample(target, fps=2, seconds=1))
