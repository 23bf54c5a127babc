"""`RtspAdapter`: the `CameraAdapter` for plain RTSP streams, registered as entry point "rtsp".

PyAV (FFmpeg) opens the stream, reports what it carries and decodes frames. Its calls block, so
each runs in a worker thread, bounded twice: FFmpeg's own socket timeout plus PyAV's interrupt
timeouts on open and on every read end the call from inside, and `asyncio.wait_for` stops
waiting for it from outside (the thread then ends at its next interrupt check).

Credentials from the `Target` go only into the URL handed to FFmpeg; every message names the
target's URI (which has none) and is redacted again with the password and user name.
"""

import asyncio
import errno
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from fractions import Fraction
from typing import Final, Literal, TypeVar, cast
from urllib.parse import urlsplit

import av
import av.error
from av.container import InputContainer
from av.video.frame import VideoFrame

from adapters.base import (
    AdapterError,
    AuthenticationFailed,
    ColorFrame,
    ConnectionRefused,
    GrayFrame,
    NotSupported,
    ProtocolError,
    StreamNotFound,
    Target,
    Timeout,
    Unreachable,
)
from schemas.adapters import CameraDescription, StreamProfile, StreamRole
from schemas.enums import AdapterKind

Transport = Literal["tcp", "udp"]
T = TypeVar("T")

DEFAULT_PORT: Final = 554
# Time the worker thread may take beyond its own deadline before the caller stops waiting:
# FFmpeg checks its interrupt callback often, but not continuously.
GRACE_S: Final = 2.0
# As ONVIF names codecs, so both adapters describe a stream alike.
CODEC_NAMES: Final = {"h264": "H264", "hevc": "H265", "mjpeg": "JPEG", "mpeg4": "MPEG4"}
_UNREACHABLE_ERRNOS: Final = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL}
# FFmpeg's RTSP demuxer reports a silent server as "invalid data"; a failure that comes when
# the time allowed is (within this slack) used up is a timeout, whatever FFmpeg calls it.
_SLACK_S: Final = 0.1


class RtspAdapter:
    """Probe RTSP streams, take snapshots and decode frames for health checks."""

    def __init__(self, transport: Transport = "tcp") -> None:
        if transport not in ("tcp", "udp"):
            raise ValueError("transport must be 'tcp' or 'udp'")
        self.transport: Transport = transport

    @property
    def kind(self) -> AdapterKind:
        return AdapterKind.RTSP

    async def probe(self, target: Target) -> CameraDescription:
        """Codec, size and frame rate of the stream at the target's URI, as one main stream."""
        return await _bounded(lambda: self._probe(target), target, target.timeout_s)

    async def snapshot(self, target: Target) -> bytes:
        """The first sound decoded frame, JPEG encoded."""
        return await _bounded(lambda: self._snapshot(target), target, 2 * target.timeout_s)

    async def frames(
        self, target: Target, count: int, timeout: float | None = None
    ) -> list[GrayFrame]:
        """`count` consecutive decoded frames as grayscale arrays (height x width, uint8).

        `timeout` bounds the whole call, open included (default: twice the target's
        timeout); each read is bounded by the target's timeout, so a stream that stalls
        ends in `Timeout` after that long.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        total = timeout if timeout is not None else 2 * target.timeout_s
        if total <= 0:
            raise ValueError("timeout must be positive")
        return await _bounded(lambda: self._frames(target, count, total), target, total)

    def sample(
        self, target: Target, fps: float, seconds: float
    ) -> Iterator[tuple[float, ColorFrame]]:
        """Frames of the stream as BGR arrays, at most `fps` a second, for `seconds` after the
        stream opened, each with the time.time() it was decoded at.

        Blocking (a worker thread or task runs it). Frames between samples are decoded and
        dropped, so the sample is always the newest picture. Each read is bounded by the
        target's timeout: a stream that stalls ends in `Timeout`, one that ends stops the
        iteration early.
        """
        if not (fps > 0 and seconds > 0):
            raise ValueError("fps and seconds must be positive")
        step = 1.0 / fps
        with self._open(target, target.timeout_s) as container:
            end = time.monotonic() + seconds  # stream time: opening it is not counted
            due = 0.0
            for frame in _decoded(container, target, end + target.timeout_s):
                now = time.monotonic()
                if now >= end:
                    return
                if now < due:
                    continue
                # On a fixed grid, so the rate holds; after a lag, from now on (no burst).
                due = now + step if due == 0.0 else max(due + step, now)
                yield time.time(), cast(ColorFrame, frame.to_ndarray(format="bgr24"))

    def _probe(self, target: Target) -> CameraDescription:
        with self._open(target, target.timeout_s) as container:
            stream = _video_stream(container, target)
            context = stream.codec_context
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate is not None and 0 < rate <= 1000 else None
            name = context.name
            profile = StreamProfile(
                token=urlsplit(_uri(target)).path or "/",
                role=StreamRole.MAIN,
                uri=_uri(target),
                codec=CODEC_NAMES.get(name, name.upper()),
                width=context.width or None,
                height=context.height or None,
                fps=fps,
                bitrate_kbps=_kbps(context.bit_rate),
            )
        return CameraDescription(
            adapter=AdapterKind.RTSP, streams=[profile], probed_at=datetime.now(UTC)
        )

    def _snapshot(self, target: Target) -> bytes:
        deadline = time.monotonic() + 2 * target.timeout_s
        with self._open(target, target.timeout_s) as container:
            for frame in _decoded(container, target, deadline):
                return _jpeg(frame)
        raise ProtocolError(f"RTSP {_uri(target)}: the stream ended before a whole frame")

    def _frames(self, target: Target, count: int, total: float) -> list[GrayFrame]:
        deadline = time.monotonic() + total
        out: list[GrayFrame] = []
        with self._open(target, min(target.timeout_s, total)) as container:
            for frame in _decoded(container, target, deadline):
                out.append(cast(GrayFrame, frame.to_ndarray(format="gray")))
                if len(out) == count:
                    return out
        raise ProtocolError(
            f"RTSP {_uri(target)}: the stream ended after {len(out)} of {count} frames"
        )

    def _open(self, target: Target, open_timeout: float) -> InputContainer:
        options = {
            "rtsp_transport": self.transport,
            # FFmpeg's socket I/O timeout, in microseconds (FFmpeg 5 renamed `stimeout` so).
            "timeout": str(int(target.timeout_s * 1_000_000)),
            "analyzeduration": "500000",
        }
        started = time.monotonic()
        try:
            return av.open(
                target.with_userinfo(_uri(target)),
                options=options,
                timeout=cast(tuple[int, int], (open_timeout, target.timeout_s)),
            )
        except (av.error.FFmpegError, OSError) as exc:
            timed_out = time.monotonic() - started >= open_timeout - _SLACK_S
            raise _error(exc, target, "open", timed_out) from None


async def _bounded(work: Callable[[], T], target: Target, seconds: float) -> T:
    try:
        return await asyncio.wait_for(asyncio.to_thread(work), seconds + GRACE_S)
    except TimeoutError:
        raise Timeout(
            f"RTSP {_uri(target)}: no answer within {seconds + GRACE_S:g} s",
            secrets=target.secrets,
        ) from None
    except AdapterError as exc:
        raise type(exc)(exc.message, secrets=target.secrets) from None


def _video_stream(container: InputContainer, target: Target) -> av.VideoStream:
    if not container.streams.video:
        raise NotSupported(f"RTSP {_uri(target)}: the stream carries no video")
    return container.streams.video[0]


def _decoded(container: InputContainer, target: Target, deadline: float) -> "_FrameIter":
    return _FrameIter(container, _video_stream(container, target), target, deadline)


class _FrameIter:
    """Sound decoded frames (corrupt ones, before the first keyframe, skipped) until deadline."""

    def __init__(
        self, container: InputContainer, stream: av.VideoStream, target: Target, deadline: float
    ) -> None:
        self._packets = container.demux(stream)
        self._target = target
        self._deadline = deadline
        self._pending: list[VideoFrame] = []

    def __iter__(self) -> "_FrameIter":
        return self

    def __next__(self) -> VideoFrame:
        uri = _uri(self._target)
        while not self._pending:
            if time.monotonic() > self._deadline:
                raise Timeout(f"RTSP {uri}: frames did not arrive in time")
            started = time.monotonic()
            try:
                packet = next(self._packets)
                frames = packet.decode()
            except StopIteration:
                raise  # the stream ended
            except (av.error.FFmpegError, OSError) as exc:
                timed_out = time.monotonic() - started >= self._target.timeout_s - _SLACK_S
                raise _error(exc, self._target, "read", timed_out) from None
            self._pending = [f for f in frames if isinstance(f, VideoFrame) and not f.is_corrupt]
        return self._pending.pop(0)


def _jpeg(frame: VideoFrame) -> bytes:
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = frame.width, frame.height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    image = frame.reformat(format="yuvj420p")
    image.pts = 0
    packets = [*codec.encode(image), *codec.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


def _kbps(bit_rate: int | None) -> int | None:
    """FFmpeg's bit rate in kbit/s; None when it does not know (0) or it rounds to 0."""
    return bit_rate // 1000 if bit_rate is not None and bit_rate >= 1000 else None


def _uri(target: Target) -> str:
    """The target's stream URI (no credentials), or rtsp://host:port/ when it has none."""
    if target.uri:
        return target.uri
    return f"rtsp://{target.host}:{target.port or DEFAULT_PORT}/"


def _error(
    exc: BaseException, target: Target, action: str, timed_out: bool = False
) -> AdapterError:
    """The AdapterError for an FFmpeg failure; never repeats FFmpeg's text with the URL."""
    where = f"RTSP {_uri(target)}"
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    secrets = target.secrets
    if isinstance(exc, av.error.HTTPNotFoundError):
        return StreamNotFound(f"{where}: the server answered 404 Not Found", secrets=secrets)
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        status = 401 if isinstance(exc, av.error.HTTPUnauthorizedError) else 403
        return AuthenticationFailed(f"{where}: the server answered {status}", secrets=secrets)
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionRefused(f"{where}: connection refused", secrets=secrets)
    if timed_out or isinstance(exc, av.error.ExitError | TimeoutError):
        return Timeout(
            f"{where}: no answer to {action} within {target.timeout_s:g} s", secrets=secrets
        )
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE_ERRNOS:
        return Unreachable(f"{where}: cannot connect ({reason})", secrets=secrets)
    if isinstance(exc, av.error.HTTPClientError | av.error.HTTPServerError):
        return ProtocolError(f"{where}: the server refused to {action} ({reason})", secrets=secrets)
    return ProtocolError(f"{where}: {action} failed ({reason})", secrets=secrets)
