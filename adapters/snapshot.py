"""`SnapshotAdapter`: cameras that only serve a JPEG at an HTTP URL, registered as
"http_snapshot".

Each call GETs the target's URI with httpx. What the adapter reports:

- `probe`: one GET; the answer must be a JPEG (starts with FF D8 and decodes). The description
  has capability `snapshot`, `snapshot_uri` set to the URI, and one stream of role main for the
  same URI with codec "JPEG" and the picture's width and height (fps unknown: the hub polls).
  The one stream lets callers read the size from `main_stream` as for any other camera.
- `snapshot`: the JPEG bytes, checked as in `probe`.
- `frames(count)`: `count` GETs, one every `interval_s` seconds, decoded to grayscale arrays.

Bounds: every GET is bounded by the target's timeout (connect, each read, and the whole
exchange, so a server that drips bytes cannot stretch it); `frames` as a whole by its
`timeout`. Bodies over `max_bytes` are refused as they stream in, so a hostile server cannot
exhaust memory.

Credentials: with a user name or password, the first request goes without them; the camera's
challenge picks Digest or Basic, and later requests through the same client answer at once.
Failures map to `AdapterError` subclasses: refused -> ConnectionRefused, DNS failure or no
route or no connection in time -> Unreachable, 401/403 -> AuthenticationFailed, 404 ->
StreamNotFound, not a JPEG -> NotSupported, a JPEG that does not decode or a body too large ->
ProtocolError, a server that stops answering -> Timeout. Messages name the URI (which holds no
userinfo) and are redacted with the password.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Final, cast
from urllib.parse import urlsplit

import av
import av.error
import httpx
from av.video.frame import VideoFrame

from adapters.base import (
    AdapterError,
    AuthenticationFailed,
    ConnectionRefused,
    GrayFrame,
    NotSupported,
    ProtocolError,
    StreamNotFound,
    Target,
    Timeout,
    Unreachable,
    is_refused,
)
from schemas.adapters import CameraDescription, Capability, StreamProfile, StreamRole
from schemas.enums import AdapterKind

DEFAULT_INTERVAL_S: Final = 0.5
DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024
JPEG_SOI: Final = b"\xff\xd8"


class SnapshotAdapter:
    """Probe, fetch and poll a camera's JPEG snapshot URL."""

    def __init__(
        self, interval_s: float = DEFAULT_INTERVAL_S, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if not interval_s >= 0:
            raise ValueError("interval_s must be zero or more seconds")
        if max_bytes < len(JPEG_SOI):
            raise ValueError("max_bytes is too small for any JPEG")
        self.interval_s = interval_s
        self.max_bytes = max_bytes

    @property
    def kind(self) -> AdapterKind:
        return AdapterKind.HTTP_SNAPSHOT

    async def probe(self, target: Target) -> CameraDescription:
        """The snapshot's size, as one JPEG stream; fails unless the URI serves a JPEG."""
        async with _client(target) as client:
            image = await fetch_jpeg(client, target, self.max_bytes)
        frame = await asyncio.to_thread(decode_jpeg, image, target)
        uri = snapshot_uri(target)
        stream = StreamProfile(
            token=urlsplit(uri).path or "/",
            role=StreamRole.MAIN,
            uri=uri,
            codec="JPEG",
            width=frame.width,
            height=frame.height,
        )
        return CameraDescription(
            adapter=AdapterKind.HTTP_SNAPSHOT,
            streams=[stream],
            snapshot_uri=uri,
            capabilities=[Capability.SNAPSHOT],
            probed_at=datetime.now(UTC),
        )

    async def snapshot(self, target: Target) -> bytes:
        """The camera's current JPEG, checked to decode."""
        async with _client(target) as client:
            image = await fetch_jpeg(client, target, self.max_bytes)
        await asyncio.to_thread(decode_jpeg, image, target)
        return image

    async def frames(
        self, target: Target, count: int, timeout: float | None = None
    ) -> list[GrayFrame]:
        """`count` snapshots, `interval_s` apart (start to start), as grayscale arrays.

        `timeout` bounds the whole call (default: twice the target's timeout); each GET is
        bounded by the target's timeout.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        total = timeout if timeout is not None else 2 * target.timeout_s
        if total <= 0:
            raise ValueError("timeout must be positive")
        out: list[GrayFrame] = []
        try:
            async with asyncio.timeout(total), _client(target) as client:
                while len(out) < count:
                    started = time.monotonic()
                    image = await fetch_jpeg(client, target, self.max_bytes)
                    frame = await asyncio.to_thread(decode_jpeg, image, target)
                    out.append(cast(GrayFrame, frame.to_ndarray(format="gray")))
                    if len(out) < count:
                        await asyncio.sleep(
                            max(0.0, self.interval_s - (time.monotonic() - started))
                        )
        except TimeoutError:
            raise Timeout(
                f"HTTP {snapshot_uri(target)}: {len(out)} of {count} snapshots within {total:g} s",
                secrets=(target.password,),
            ) from None
        return out


def snapshot_uri(target: Target) -> str:
    """The target's URI (no credentials), or http://host[:port]/ when it has none."""
    if target.uri:
        return target.uri
    port = f":{target.port}" if target.port else ""
    return f"http://{target.host}{port}/"


class AnyAuth(httpx.Auth):
    """Digest or Basic, as the server's first challenge asks; then that scheme at once."""

    def __init__(self, username: str, password: str) -> None:
        self._basic = httpx.BasicAuth(username, password)
        self._digest = httpx.DigestAuth(username, password)
        self._chosen: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._chosen is not None:
            yield from self._chosen.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        schemes = [
            h.split(" ", 1)[0].lower() for h in response.headers.get_list("www-authenticate")
        ]
        if "digest" in schemes:  # never send the password in clear when digest is offered
            self._chosen = self._digest
        elif "basic" in schemes:
            self._chosen = self._basic
        else:
            return
        # Digest's own flow sends once more to read the challenge; the cost is one exchange.
        yield from self._chosen.auth_flow(request)


@asynccontextmanager
async def _client(target: Target) -> AsyncIterator[httpx.AsyncClient]:
    uri = snapshot_uri(target)
    if urlsplit(uri).scheme not in ("http", "https"):
        raise NotSupported(f"{uri}: the snapshot adapter reads http:// and https:// URLs only")
    auth = AnyAuth(target.username or "", target.password or "") if target.has_credentials else None
    # trust_env=False: no proxy from the environment sees the camera's credentials.
    async with httpx.AsyncClient(
        auth=auth,
        timeout=httpx.Timeout(target.timeout_s),
        follow_redirects=True,
        max_redirects=3,
        trust_env=False,
    ) as client:
        yield client


async def fetch_jpeg(client: httpx.AsyncClient, target: Target, max_bytes: int) -> bytes:
    """One GET of the snapshot URI; its body, which must start as a JPEG."""
    uri = snapshot_uri(target)
    body, content_type = await fetch(client, target, uri, max_bytes)
    if not body.startswith(JPEG_SOI):
        raise NotSupported(
            f"HTTP {uri}: the answer is not a JPEG (Content-Type {content_type or 'none'})",
            secrets=(target.password,),
        )
    return body


async def fetch(
    client: httpx.AsyncClient, target: Target, uri: str, max_bytes: int
) -> tuple[bytes, str]:
    """GET `uri`: (body, Content-Type), the body capped at `max_bytes`. Raises AdapterError."""
    try:
        async with asyncio.timeout(target.timeout_s):
            return await _get(client, target, uri, max_bytes)
    except TimeoutError:
        raise Timeout(
            f"HTTP {uri}: no whole answer within {target.timeout_s:g} s",
            secrets=(target.password,),
        ) from None
    except httpx.HTTPError as exc:
        raise http_error(exc, target, uri) from None


async def _get(
    client: httpx.AsyncClient, target: Target, uri: str, max_bytes: int
) -> tuple[bytes, str]:
    async with client.stream("GET", uri) as response:
        check_status(response, target, uri)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(target, uri, max_bytes)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise _too_large(target, uri, max_bytes)
        return bytes(body), response.headers.get("content-type", "")


def check_status(response: httpx.Response, target: Target, uri: str) -> None:
    """Raise the AdapterError for an HTTP error status; 2xx and 3xx pass."""
    status = response.status_code
    secrets = (target.password,)
    if status in (401, 403):
        detail = "the credentials were refused" if target.has_credentials else "it needs login"
        raise AuthenticationFailed(
            f"HTTP {uri}: the server answered {status} ({detail})", secrets=secrets
        )
    if status == 404:
        raise StreamNotFound(f"HTTP {uri}: the server answered 404 Not Found", secrets=secrets)
    if status >= 400:
        raise ProtocolError(f"HTTP {uri}: the server answered {status}", secrets=secrets)


def http_error(exc: httpx.HTTPError, target: Target, uri: str) -> AdapterError:
    """The AdapterError for an httpx failure; never repeats httpx's text, which may hold URLs."""
    secrets = (target.password,)
    where = f"HTTP {uri}"
    if isinstance(exc, httpx.ConnectTimeout):
        return Unreachable(f"{where}: no connection within {target.timeout_s:g} s", secrets=secrets)
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"{where}: no answer within {target.timeout_s:g} s", secrets=secrets)
    if isinstance(exc, httpx.ConnectError):
        if is_refused(exc):
            return ConnectionRefused(f"{where}: connection refused", secrets=secrets)
        return Unreachable(f"{where}: the host cannot be reached", secrets=secrets)
    if isinstance(exc, httpx.TooManyRedirects):
        return ProtocolError(f"{where}: too many redirects", secrets=secrets)
    return ProtocolError(f"{where}: the exchange failed ({type(exc).__name__})", secrets=secrets)


def decode_jpeg(image: bytes, target: Target) -> VideoFrame:
    """The picture in a JPEG; ProtocolError when it does not decode. Blocking (CPU)."""
    codec = av.CodecContext.create("mjpeg", "r")
    try:
        frames = [f for f in codec.decode(av.Packet(image)) if isinstance(f, VideoFrame)]
        frames += [f for f in codec.decode(None) if isinstance(f, VideoFrame)]
    except (av.error.FFmpegError, ValueError):
        frames = []
    if not frames or frames[0].width < 1 or frames[0].height < 1:
        raise ProtocolError(
            f"HTTP {snapshot_uri(target)}: the JPEG does not decode", secrets=(target.password,)
        )
    return frames[0]


def _too_large(target: Target, uri: str, max_bytes: int) -> ProtocolError:
    return ProtocolError(
        f"HTTP {uri}: the answer is larger than {max_bytes} bytes", secrets=(target.password,)
    )
