"""`OnvifAdapter`: the `CameraAdapter` for ONVIF devices, registered as entry point "onvif"."""

import errno
from urllib.parse import urlsplit

import httpx

from adapters.base import (
    AdapterError,
    AuthenticationFailed,
    ConnectionRefused,
    NotSupported,
    ProtocolError,
    StreamNotFound,
    Target,
    Timeout,
    Unreachable,
)
from adapters.onvif import device
from schemas.adapters import CameraDescription
from schemas.enums import AdapterKind

MAX_SNAPSHOT_BYTES = 20 * 1024 * 1024
_JPEG_MAGIC = b"\xff\xd8"


class OnvifAdapter:
    """Probe ONVIF devices and fetch still images through their snapshot URI."""

    @property
    def kind(self) -> AdapterKind:
        return AdapterKind.ONVIF

    async def probe(self, target: Target) -> CameraDescription:
        return await device.probe(target)

    async def snapshot(self, target: Target) -> bytes:
        """A JPEG from the main profile's snapshot URI (HTTP digest or basic auth, as asked)."""
        uri = await device.snapshot_uri(target)
        if uri is None:
            raise NotSupported(f"the device at {device.device_service_url(target)} has no snapshot")
        if (urlsplit(uri).hostname or "").lower() != target.host.strip("[]").lower():
            # Credentials go only to the host the operator named.
            raise NotSupported(f"the snapshot URI {uri} is on another host than {target.host}")
        try:
            return await _fetch_jpeg(uri, target)
        except AdapterError as exc:
            raise type(exc)(exc.message, secrets=(target.password, target.username)) from None


async def _fetch_jpeg(uri: str, target: Target) -> bytes:
    timeout = httpx.Timeout(target.timeout_s)
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, trust_env=False
    ) as client:
        try:
            response = await _get(client, uri)
            if response.status_code == 401 and target.has_credentials:
                response = await _get(client, uri, _auth_for(response, target))
        except httpx.TimeoutException:
            raise Timeout(f"snapshot at {uri}: no answer within {target.timeout_s:g} s") from None
        except httpx.ConnectError as exc:
            raise _connect_error(exc, uri) from None
        except httpx.HTTPError as exc:
            raise ProtocolError(f"snapshot at {uri}: {type(exc).__name__}") from None
    status = response.status_code
    if status in (401, 403):
        raise AuthenticationFailed(f"snapshot at {uri}: HTTP {status}")
    if status == 404:
        raise StreamNotFound(f"snapshot at {uri}: HTTP 404")
    if status != 200:
        raise ProtocolError(f"snapshot at {uri}: HTTP {status}")
    if not response.content.startswith(_JPEG_MAGIC):
        raise ProtocolError(f"snapshot at {uri}: the answer is not a JPEG image")
    return response.content


async def _get(
    client: httpx.AsyncClient, uri: str, auth: httpx.Auth | None = None
) -> httpx.Response:
    async with client.stream("GET", uri, auth=auth) as response:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_SNAPSHOT_BYTES:
                raise ProtocolError(f"snapshot at {uri}: larger than {MAX_SNAPSHOT_BYTES} bytes")
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(body))


def _auth_for(challenge: httpx.Response, target: Target) -> httpx.Auth:
    username, password = target.username or "", target.password or ""
    scheme = challenge.headers.get("WWW-Authenticate", "").split(" ", 1)[0].lower()
    if scheme == "digest":
        return httpx.DigestAuth(username, password)
    return httpx.BasicAuth(username, password)


def _connect_error(exc: httpx.ConnectError, uri: str) -> AdapterError:
    cause = exc.__context__ or exc.__cause__
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__context__ or cause.__cause__
    if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
        return ConnectionRefused(f"snapshot at {uri}: connection refused")
    return Unreachable(f"snapshot at {uri}: cannot connect")
