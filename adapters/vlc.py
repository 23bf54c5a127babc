"""`VlcAdapter`: sources libVLC plays (files, HTTP, HLS, MJPEG), registered as entry point "vlc".

libVLC decodes into memory through its video callbacks ("vmem"): no window, no X display.
Pictures arrive as I420; `frames` hands out their luma plane, `snapshot` encodes one as JPEG
with PyAV, `probe` reads codec, size and frame rate from the playing media.

Bounds: libVLC calls block and run their own threads, so each adapter call runs in a worker
thread that polls the player against a deadline, then always stops and releases it;
`asyncio.wait_for` stops waiting for the worker from outside (with `GRACE_S` for the stop).
HTTP(S) sources are first opened with httpx (status and headers only), because libVLC reports
every failure as a bare "error" state: that first request tells refused, unreachable, 401/403,
404 and silent servers apart, as the snapshot adapter does. Files are checked to exist.

RTSP: libVLC opens rtsp:// through its live555 module, which Debian's build lacks (its only
RTSP module, "realrtsp", speaks RealNetworks' dialect and fails against cameras). The adapter
looks for the module in libVLC's plugin directories and, without it, raises `NotSupported` at
once instead of trying. When the directories cannot be found it tries, within the deadline.

libVLC missing (python-vlc cannot load libvlc.so) is `NotSupported` at first use, with the
Debian packages to install; the module imports without it, so the registry still lists "vlc".

Sizes: libVLC proposes the decoder's padded size (e.g. 768x448 for 768x432 MJPEG) and scales
the picture into it. The adapter renders at the visible size instead: when the first picture
shows that the proposal differed, it plays the source once more at the visible size, which it
then remembers per URI.

Credentials go only into the URL handed to libVLC (percent-encoded userinfo; its HTTP access
does Basic and Digest); messages name the target's URI and are redacted with the password.
"""

import asyncio
import ctypes
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Final, TypeVar
from urllib.parse import unquote, urlsplit

import av
import httpx
import numpy as np
from av.video.frame import VideoFrame

from adapters.base import (
    AdapterError,
    GrayFrame,
    NotSupported,
    ProtocolError,
    StreamNotFound,
    Target,
    Timeout,
)
from adapters.snapshot import AnyAuth, check_status, http_error
from schemas.adapters import CameraDescription, StreamProfile, StreamRole
from schemas.enums import AdapterKind
from schemas.scalars import URI_PATTERN

T = TypeVar("T")

GRACE_S: Final = 2.0  # beyond the worker's own deadline, for stopping the player
RTSP_SCHEMES: Final = frozenset({"rtsp", "rtsps", "rtspt", "rtspu"})
NO_RTSP: Final = (
    "the installed libVLC cannot open RTSP (Debian's build has no live555); use the rtsp adapter"
)
NO_LIBVLC: Final = (
    "libVLC is not installed or cannot be loaded; on Debian: apt-get install libvlc5 "
    "vlc-plugin-base"
)
# As ONVIF names codecs, so all adapters describe a stream alike; keys are libVLC fourccs.
CODEC_NAMES: Final = {"h264": "H264", "hevc": "H265", "MJPG": "JPEG", "mjpg": "JPEG"}
CODEC_NAMES_MORE: Final = {"mp4v": "MPEG4", "VP80": "VP8", "VP90": "VP9"}
_INSTANCE_ARGS: Final = [
    "--quiet",
    "--intf=dummy",
    "--no-xlib",  # never touch an X display
    "--no-audio",
    "--no-video-title-show",
    "--no-osd",
    "--no-stats",
    "--no-snapshot-preview",
    "--avcodec-hw=none",  # hardware decoders probe for GPUs first and fail headless
]
_POLL_S: Final = 0.05
_SIZE_WAIT_S: Final = 1.0
_CODEC_TEXT = re.compile(r"^[A-Za-z0-9._+-]{1,32}$")

# The C prototypes of libVLC's video callbacks. python-vlc's own declare the chroma argument
# as a C string, which ctypes hands over as an immutable copy: the chroma could not be set.
_Uint = ctypes.POINTER(ctypes.c_uint)
_FormatCb = ctypes.CFUNCTYPE(
    ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, _Uint, _Uint, _Uint, _Uint
)
_CleanupCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_LockCb = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))
_UnlockCb = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
)
_DisplayCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


@cache
def load_vlc() -> ModuleType:
    """python-vlc with libVLC loaded; NotSupported when libVLC is missing."""
    # python-vlc logs its own "cannot load" line; NotSupported below says it, and how to fix.
    logging.getLogger("vlc").addHandler(logging.NullHandler())
    try:
        import vlc
    # python-vlc raises NotImplementedError when it finds no libvlc, OSError when it cannot
    # load one, and calls sys.exit when PYTHON_VLC_LIB_PATH names a missing file.
    except (ImportError, OSError, NotImplementedError, SystemExit):
        raise NotSupported(NO_LIBVLC) from None
    module: ModuleType = vlc
    return module


def plugin_dirs() -> list[Path]:
    """libVLC's plugin directories: VLC_PLUGIN_PATH, then <libvlccore's dir>/vlc/plugins."""
    vlc = load_vlc()
    found = [Path(p) for p in os.environ.get("VLC_PLUGIN_PATH", "").split(os.pathsep) if p]
    if getattr(vlc, "plugin_path", None):
        found.append(Path(vlc.plugin_path))
    # libvlccore looks for its plugins next to itself; /proc/self/maps says where it is.
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        maps = ""
    for line in maps.splitlines():
        path = line.split()[-1]
        if "/libvlccore.so" in path:
            found.append(Path(path).parent / "vlc" / "plugins")
    return [p for p in dict.fromkeys(found) if p.is_dir()]


@cache
def rtsp_support() -> bool | None:
    """Whether libVLC has an RTSP access module (live555); None when that cannot be told."""
    dirs = plugin_dirs()
    if not dirs:
        return None
    return any(any(d.rglob("liblive555_plugin*")) for d in dirs)


class VlcAdapter:
    """Probe, snapshot and decode frames of what libVLC plays, headless."""

    def __init__(self, network_caching_ms: int = 300) -> None:
        if network_caching_ms < 0:
            raise ValueError("network_caching_ms must be zero or more")
        self.network_caching_ms = network_caching_ms
        self._instance: Any = None
        self._lock = threading.Lock()
        self._sizes: dict[str, tuple[int, int]] = {}  # URI -> visible (width, height)

    @property
    def kind(self) -> AdapterKind:
        return AdapterKind.VLC

    async def probe(self, target: Target) -> CameraDescription:
        """Codec, size and frame rate of the source, as one main stream."""
        return await self._bounded(lambda d: self._probe(target, d), target, target.timeout_s)

    async def snapshot(self, target: Target) -> bytes:
        """The first picture libVLC renders, JPEG encoded."""
        seconds = 2 * target.timeout_s
        return await self._bounded(lambda d: self._snapshot(target, d), target, seconds)

    async def frames(
        self, target: Target, count: int, timeout: float | None = None
    ) -> list[GrayFrame]:
        """`count` consecutive pictures as grayscale arrays (height x width, uint8), the
        whole call bounded by `timeout` (default: twice the target's timeout)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        total = timeout if timeout is not None else 2 * target.timeout_s
        if total <= 0:
            raise ValueError("timeout must be positive")
        return await self._bounded(lambda d: self._frames(target, count, d), target, total)

    async def _bounded(self, work: Callable[[float], T], target: Target, seconds: float) -> T:
        uri = source_uri(target)
        secrets = target.secrets
        if urlsplit(uri).scheme.lower() in RTSP_SCHEMES and rtsp_support() is False:
            raise NotSupported(f"{uri}: {NO_RTSP}", secrets=secrets)
        deadline = time.monotonic() + seconds
        try:
            return await asyncio.wait_for(asyncio.to_thread(work, deadline), seconds + GRACE_S)
        except TimeoutError:
            raise Timeout(
                f"VLC {uri}: no picture within {seconds + GRACE_S:g} s", secrets=secrets
            ) from None
        except AdapterError as exc:
            raise type(exc)(exc.message, secrets=secrets) from None

    def _probe(self, target: Target, deadline: float) -> CameraDescription:
        with self._play(target, deadline, keep=1) as capture:
            capture.wait_frames(1, deadline)
            codec, fps = capture.codec_and_fps()
            width, height = capture.visible_size(deadline)
        uri = source_uri(target)
        stream = StreamProfile(
            token=urlsplit(uri).path or "/",
            role=StreamRole.MAIN,
            uri=uri if re.match(URI_PATTERN, uri) else None,
            codec=codec,
            width=width or None,
            height=height or None,
            fps=fps,
        )
        return CameraDescription(
            adapter=AdapterKind.VLC, streams=[stream], probed_at=datetime.now(UTC)
        )

    def _snapshot(self, target: Target, deadline: float) -> bytes:
        (picture,) = self._pictures(target, 1, deadline)
        return picture.jpeg()

    def _frames(self, target: Target, count: int, deadline: float) -> list[GrayFrame]:
        return [p.gray() for p in self._pictures(target, count, deadline)]

    def _pictures(self, target: Target, count: int, deadline: float) -> list["_Picture"]:
        """`count` pictures at the visible size; a second play if libVLC padded the first."""
        uri = source_uri(target)
        with self._play(target, deadline, keep=count) as capture:
            capture.wait_frames(1, deadline)
            visible = capture.visible_size(deadline)
            if capture.rendered_size() == visible:
                self._sizes[uri] = visible
                return capture.wait_frames(count, deadline)
        self._sizes[uri] = visible
        with self._play(target, deadline, keep=count) as capture:
            return capture.wait_frames(count, deadline)

    def _play(self, target: Target, deadline: float, keep: int) -> "_Capture":
        instance = self._vlc_instance()  # libVLC missing: say so before anything else
        _preflight(target, deadline)
        uri = source_uri(target)
        return _Capture(
            instance,
            target.with_userinfo(source_uri(target)),
            uri,
            self._sizes.get(uri),
            keep,
            [f":network-caching={self.network_caching_ms}", ":no-audio"],
        )

    def _vlc_instance(self) -> Any:
        vlc = load_vlc()
        with self._lock:
            if self._instance is None:
                self._instance = vlc.Instance(_INSTANCE_ARGS)
                if self._instance is None:
                    raise NotSupported("libVLC failed to start (libvlc_new returned NULL)")
            return self._instance


@dataclass(frozen=True, slots=True)
class _Picture:
    """One I420 picture: its planes as libVLC laid them out, cropped to width x height."""

    width: int
    height: int
    planes: tuple[np.ndarray[Any, np.dtype[np.uint8]], ...]

    def gray(self) -> GrayFrame:
        return self.planes[0][: self.height, : self.width].copy()

    def jpeg(self) -> bytes:
        frame = VideoFrame(self.width, self.height, "yuv420p")
        for plane, source in zip(frame.planes, self.planes, strict=True):
            rows = source[: plane.height, : plane.width]
            padded = np.zeros((plane.height, plane.line_size), dtype=np.uint8)
            padded[:, : rows.shape[1]] = rows
            plane.update(padded.tobytes())
        codec = av.CodecContext.create("mjpeg", "w")
        codec.width, codec.height = self.width, self.height
        codec.pix_fmt = "yuvj420p"
        codec.time_base = Fraction(1, 25)
        image = frame.reformat(format="yuvj420p")
        image.pts = 0
        return b"".join(bytes(p) for p in [*codec.encode(image), *codec.encode(None)])


class _Capture:
    """One libVLC media player rendering I420 pictures into memory; a context manager that
    stops and releases the player however the block ends."""

    def __init__(
        self,
        instance: Any,
        url: str,
        uri: str,
        size: tuple[int, int] | None,
        keep: int,
        options: list[str],
    ) -> None:
        self._vlc = load_vlc()
        self._uri = uri
        self._size = size  # forced render size, or None to take libVLC's proposal
        self._keep = keep
        self._cond = threading.Condition()
        self._pictures: list[_Picture] = []
        self._geometry: tuple[int, int, list[int], list[int]] | None = None
        self._buffer: ctypes.Array[ctypes.c_uint8] | None = None
        self._base = 0
        # Kept referenced: libVLC calls these from its threads until the player stops.
        self._callbacks = (
            _FormatCb(self._on_format),
            _CleanupCb(self._on_cleanup),
            _LockCb(self._on_lock),
            _UnlockCb(self._on_unlock),
            _DisplayCb(self._on_display),
        )
        self._media = instance.media_new(url, *options)
        self._player = instance.media_player_new()
        handle = self._player._as_parameter_
        _set_format_callbacks()(handle, self._callbacks[0], self._callbacks[1])
        _set_callbacks()(handle, *self._callbacks[2:], None)
        self._player.set_media(self._media)
        if self._player.play() != 0:
            self.__exit__()
            raise ProtocolError(f"VLC {uri}: libVLC refused to start playing")

    def __enter__(self) -> "_Capture":
        return self

    def __exit__(self, *exc: object) -> None:
        self._player.stop()  # joins libVLC's threads: no callback runs after this
        self._player.release()
        self._media.release()

    def wait_frames(self, count: int, deadline: float) -> list[_Picture]:
        """The first `count` pictures; ProtocolError if the source fails or ends first."""
        state = self._vlc.State
        with self._cond:
            while len(self._pictures) < count:
                if time.monotonic() > deadline:
                    raise Timeout(
                        f"VLC {self._uri}: {len(self._pictures)} of {count} pictures in time"
                    )
                player_state = self._player.get_state()
                if player_state == state.Error:
                    raise ProtocolError(f"VLC {self._uri}: libVLC could not open or decode it")
                if player_state == state.Ended and not self._pictures:
                    raise NotSupported(
                        f"VLC {self._uri}: libVLC found no picture in it (not a video it decodes)"
                    )
                if player_state == state.Ended:
                    raise ProtocolError(
                        f"VLC {self._uri}: the source ended after {len(self._pictures)} "
                        f"of {count} pictures"
                    )
                self._cond.wait(_POLL_S)
            return self._pictures[:count]

    def rendered_size(self) -> tuple[int, int]:
        assert self._geometry is not None  # set before the first picture
        return self._geometry[0], self._geometry[1]

    def visible_size(self, deadline: float) -> tuple[int, int]:
        """The source's visible size as libVLC's video output reports it.

        The output may report 0x0 for a moment after the first picture; then the track's
        size, then the rendered one, stand in once `_SIZE_WAIT_S` (or the deadline) passes.
        """
        until = min(deadline, time.monotonic() + _SIZE_WAIT_S)
        while True:
            width, height = (int(v) for v in self._player.video_get_size(0))
            if width > 0 and height > 0:
                return width, height
            if time.monotonic() >= until:
                break
            time.sleep(_POLL_S / 5)
        video = self._video_track()
        if video is not None and video[1].width > 0 and video[1].height > 0:
            return int(video[1].width), int(video[1].height)
        return self.rendered_size()

    def codec_and_fps(self) -> tuple[str | None, float | None]:
        found = self._video_track()
        if found is None:
            return None, None
        fourcc, video = found
        fps = None
        if video.frame_rate_num and video.frame_rate_den:
            fps = video.frame_rate_num / video.frame_rate_den
        elif self._player.get_fps() > 0:
            fps = float(self._player.get_fps())
        return _codec_name(fourcc), fps if fps and 0 < fps <= 1000 else None

    def _video_track(self) -> tuple[int, Any] | None:
        """(fourcc, libvlc_video_track_t) of the first video track, if libVLC knows it."""
        for track in self._media.tracks_get() or ():
            if track.type == self._vlc.TrackType.video:
                # libvlc_media_track_t holds a union of track pointers; python-vlc lays it
                # out as three fields, so the video pointer is read from the first one.
                pointer = ctypes.cast(track.audio, ctypes.POINTER(self._vlc.VideoTrack))
                return int(track.codec), pointer.contents
        return None

    # libVLC's callbacks, run on its threads. Exceptions cannot cross into C: keep them simple.

    def _on_format(
        self,
        opaque: Any,
        chroma: int,
        width: Any,
        height: Any,
        pitches: Any,
        lines: Any,
    ) -> int:
        if self._size is not None and min(self._size) > 0:  # libVLC divides by these
            width[0], height[0] = self._size  # libVLC scales (or crops padding) to this
        w, h = int(width[0]), int(height[0])
        ctypes.memmove(chroma, b"I420", 4)
        half_w, half_h = (w + 1) // 2, (h + 1) // 2
        plane_pitches = [_align(w), _align(half_w), _align(half_w)]
        plane_lines = [_align(h), _align(half_h), _align(half_h)]
        for i in range(3):
            pitches[i], lines[i] = plane_pitches[i], plane_lines[i]
        size = sum(p * n for p, n in zip(plane_pitches, plane_lines, strict=True))
        self._buffer = (ctypes.c_uint8 * (size + 32))()
        self._base = _align(ctypes.addressof(self._buffer))  # planes on 32-byte boundaries
        self._geometry = (w, h, plane_pitches, plane_lines)
        return 1  # one picture buffer

    def _on_cleanup(self, opaque: Any) -> None:
        return

    def _on_lock(self, opaque: Any, planes: Any) -> Any:
        assert self._geometry is not None
        offset = 0
        for i in range(3):
            planes[i] = self._base + offset
            offset += self._geometry[2][i] * self._geometry[3][i]
        return None

    def _on_unlock(self, opaque: Any, picture: Any, planes: Any) -> None:
        return

    def _on_display(self, opaque: Any, picture: Any) -> None:
        if self._geometry is None or len(self._pictures) >= self._keep:
            return
        w, h, plane_pitches, plane_lines = self._geometry
        planes: list[np.ndarray[Any, np.dtype[np.uint8]]] = []
        offset = 0
        for pitch, count in zip(plane_pitches, plane_lines, strict=True):
            raw = (ctypes.c_uint8 * (pitch * count)).from_address(self._base + offset)
            planes.append(np.ctypeslib.as_array(raw).reshape(count, pitch).copy())
            offset += pitch * count
        with self._cond:
            self._pictures.append(_Picture(w, h, tuple(planes)))
            self._cond.notify_all()


@cache
def _set_format_callbacks() -> Any:
    proto = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _FormatCb, _CleanupCb)
    return proto(("libvlc_video_set_format_callbacks", load_vlc().dll))


@cache
def _set_callbacks() -> Any:
    proto = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _LockCb, _UnlockCb, _DisplayCb, ctypes.c_void_p)
    return proto(("libvlc_video_set_callbacks", load_vlc().dll))


def _align(value: int) -> int:
    return (value + 31) // 32 * 32


def _codec_name(fourcc: int) -> str | None:
    raw = fourcc.to_bytes(4, "little").decode("latin-1").strip(" \0")
    name = CODEC_NAMES.get(raw) or CODEC_NAMES_MORE.get(raw) or raw.upper()
    return name if _CODEC_TEXT.match(name) else None


def _preflight(target: Target, deadline: float) -> None:
    """Fail clearly before libVLC, which only says "error": file missing, HTTP failures."""
    uri = source_uri(target)
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if not Path(unquote(parts.path)).is_file():
            raise StreamNotFound(f"VLC {uri}: no such file")
        return
    if parts.scheme not in ("http", "https"):
        return
    seconds = max(0.1, min(target.timeout_s, deadline - time.monotonic()))
    auth = AnyAuth(target.username or "", target.password or "") if target.has_credentials else None
    try:
        with (
            httpx.Client(auth=auth, timeout=seconds, follow_redirects=True, trust_env=False) as c,
            c.stream("GET", uri) as response,
        ):
            check_status(response, target, uri)
    except httpx.HTTPError as exc:
        raise http_error(exc, target, uri) from None


def source_uri(target: Target) -> str:
    """The target's URI (no credentials), or http://host[:port]/ when it has none."""
    if target.uri:
        return target.uri
    port = f":{target.port}" if target.port else ""
    return f"http://{target.host}{port}/"
