"""Probe an ONVIF device: who it is, its streams, snapshot URI, PTZ and clock (Profile S/T).

Built on onvif-zeep-async (import name `onvif`), which ships the ONVIF WSDLs: nothing is fetched
but the camera's answers. Every call to the camera is bounded by the target's timeout, and every
failure ends as an `AdapterError` whose message names the step and never a credential.

Service addresses the camera advertises keep their path but take the target's scheme, host and
port: cameras behind NAT advertise LAN addresses, and credentials must go nowhere but where the
operator pointed.
"""

import asyncio
import errno
import logging
import math
import os
import re
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from time import time
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import zeep.exceptions
from pydantic import TypeAdapter, ValidationError

from adapters.base import (
    AdapterError,
    AuthenticationFailed,
    ConnectionRefused,
    NotSupported,
    ProtocolError,
    Target,
    Timeout,
    Unreachable,
)
from adapters.redaction import split_userinfo
from schemas.adapters import CameraDescription, Capability, StreamProfile, StreamRole
from schemas.enums import AdapterKind
from schemas.scalars import StreamUri

# onvif.client calls logging.basicConfig(level=INFO) when imported; the host application, not a
# library, decides where logs go, so the root logger is put back as it was.
_root_handlers = list(logging.root.handlers)
_root_level = logging.root.level
from onvif import ONVIFCamera, ONVIFService  # noqa: E402
from onvif.definition import SERVICES  # noqa: E402
from onvif.exceptions import ONVIFError  # noqa: E402

logging.root.handlers[:] = _root_handlers
logging.root.setLevel(_root_level)

DEVICE_PATH: Final = "/onvif/device_service"  # fixed by the ONVIF Core specification
NS_DEVICE: Final = "http://www.onvif.org/ver10/device/wsdl"
NS_MEDIA: Final = "http://www.onvif.org/ver10/media/wsdl"
NS_PTZ: Final = "http://www.onvif.org/ver20/ptz/wsdl"
NS_EVENTS: Final = "http://www.onvif.org/ver10/events/wsdl"
NS_IMAGING: Final = "http://www.onvif.org/ver20/imaging/wsdl"
NS_ANALYTICS: Final = "http://www.onvif.org/ver20/analytics/wsdl"
_SERVICE_CAPABILITIES: Final = {
    NS_PTZ: Capability.PTZ,
    NS_EVENTS: Capability.EVENTS,
    NS_IMAGING: Capability.IMAGING,
    NS_ANALYTICS: Capability.ANALYTICS,
}
# GetCapabilities categories, for devices without GetServices.
_CAPABILITY_CATEGORIES: Final = {
    "Media": NS_MEDIA,
    "PTZ": NS_PTZ,
    "Events": NS_EVENTS,
    "Imaging": NS_IMAGING,
    "Analytics": NS_ANALYTICS,
}
_NOT_AUTHORIZED: Final = ("notauthorized", "not authorized", "failedauthentication")
_CREDENTIAL_PARAMS: Final = frozenset(
    {"user", "username", "usr", "password", "passwd", "pass", "pwd", "loginuse", "loginpas"}
)
_ROOT_FOUND: Final = re.compile(r"root element found is (\S+)")
# What zeep says when an error status comes without a Fault element it can read.
_ZEEP_NO_FAULT: Final = "Unknown fault occured"
_PROXY_VARIABLES: Final = ("http_proxy", "https_proxy")
_TEXT_LIMIT: Final = 200
_STREAM_LIMIT: Final = 64
_STREAM_URI: TypeAdapter[str] = TypeAdapter(StreamUri)
_UNREACHABLE_ERRNOS: Final = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.EADDRNOTAVAIL}
)


def device_service_url(target: Target) -> str:
    """The device service URL of `target`: its own URI, or http://host[:port]/onvif/..."""
    if target.uri is not None:
        return target.uri
    port = f":{target.port}" if target.port is not None else ""
    return f"http://{target.host}{port}{DEVICE_PATH}"


async def probe(target: Target, timeout_s: float | None = None) -> CameraDescription:
    """Describe the ONVIF device at `target`. Each camera call gets `timeout_s` (default: the
    target's `timeout_s`); any failure raises an `AdapterError`."""
    async with _session(target, timeout_s) as device:
        offset_s = await device.clock_offset()
        info = await device.call(device.devicemgmt, "GetDeviceInformation")
        services = await device.discover_services()
        media = await device.service("media", services)
        profiles = list(await device.call(media, "GetProfiles") or [])
        streams = await _streams(device, media, profiles)
        token = _snapshot_token(streams)
        snapshot = await device.snapshot_uri(media, token) if token else None

    capabilities = {cap for ns, cap in _SERVICE_CAPABILITIES.items() if ns in services}
    if any(_get(p, "PTZConfiguration") is not None for p in profiles):
        capabilities.add(Capability.PTZ)
    if any(_get(p, "AudioEncoderConfiguration") is not None for p in profiles):
        capabilities.add(Capability.AUDIO)
    if any(_get(p, "MetadataConfiguration") is not None for p in profiles):
        capabilities.add(Capability.METADATA)
    if snapshot is not None:
        capabilities.add(Capability.SNAPSHOT)
    return CameraDescription(
        adapter=AdapterKind.ONVIF,
        manufacturer=_text(_get(info, "Manufacturer")),
        model=_text(_get(info, "Model")),
        firmware=_text(_get(info, "FirmwareVersion")),
        serial=_text(_get(info, "SerialNumber")),
        hardware_id=_text(_get(info, "HardwareId")),
        streams=streams,
        snapshot_uri=snapshot,
        ptz=Capability.PTZ in capabilities,
        clock_offset_s=offset_s,
        capabilities=sorted(capabilities),
        probed_at=datetime.now(UTC),
    )


async def snapshot_uri(target: Target, timeout_s: float | None = None) -> str | None:
    """The snapshot URI of the device's main profile (without credentials), if it has one."""
    async with _session(target, timeout_s) as device:
        await device.clock_offset()
        services = await device.discover_services()
        media = await device.service("media", services)
        profiles = list(await device.call(media, "GetProfiles") or [])
        token = _snapshot_token([_stream(profile, None) for profile in _video_profiles(profiles)])
        return await device.snapshot_uri(media, token) if token else None


@asynccontextmanager
async def _session(target: Target, timeout_s: float | None) -> AsyncIterator["_Device"]:
    device = _Device(target, target.timeout_s if timeout_s is None else timeout_s)
    try:
        yield device
    finally:
        await device.close()


class _Device:
    """One conversation with a device: bounded calls, failures mapped to `AdapterError`."""

    def __init__(self, target: Target, timeout_s: float) -> None:
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError("timeout_s must be a positive number of seconds")
        self.target = target
        self.timeout_s = timeout_s
        self.url = device_service_url(target)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https"):
            raise ValueError("an ONVIF device service URL is http:// or https://")
        default_port = 443 if parts.scheme == "https" else 80
        host = target.host if parts.scheme == "http" else f"https://{target.host}"
        self.authenticated = target.has_credentials
        # ONVIFCamera deletes http_proxy and https_proxy from the process environment; other
        # clients of the hub may rely on them, so they are put back.
        proxies = {name: os.environ[name] for name in _PROXY_VARIABLES if name in os.environ}
        self.camera = ONVIFCamera(
            host,
            target.port or default_port,
            target.username,
            target.password,
            no_cache=True,  # no WSDL cache file in the user's home: the WSDLs are local
        )
        os.environ.update(proxies)
        self._devicemgmt: ONVIFService | None = None

    @property
    def devicemgmt(self) -> ONVIFService:
        if self._devicemgmt is None:
            raise RuntimeError("call clock_offset() first")
        return self._devicemgmt

    async def close(self) -> None:
        try:
            await self.camera.close()
        except Exception:  # closing must never hide the probe's own outcome
            logging.getLogger(__name__).debug("closing the ONVIF client failed", exc_info=True)

    async def call(self, service: ONVIFService, operation: str, params: Any = None) -> Any:
        """`operation` on `service`, bounded by the timeout, authenticated when we can."""
        name = operation if self.authenticated else f"authless_{operation}"
        return await self._bounded(operation, service.xaddr, getattr(service, name)(params))

    async def _bounded(self, operation: str, endpoint: str, call: Awaitable[Any]) -> Any:
        try:
            return await asyncio.wait_for(call, self.timeout_s)
        except AdapterError:
            raise
        except Exception as exc:
            raise self.error(exc, operation, endpoint) from None

    async def clock_offset(self) -> float | None:
        """Camera UTC minus hub UTC, in seconds; WS-Security then uses the camera's clock."""
        device = await self._create("devicemgmt")
        started = time()
        try:
            # ONVIF lets anyone read the clock, so a camera whose clock is off can still be
            # logged into; some firmware (ipycam among them) asks for credentials anyway.
            answer = await self._bounded(
                "GetSystemDateAndTime", device.xaddr, device.authless_GetSystemDateAndTime(None)
            )
        except (AuthenticationFailed, ProtocolError):
            if not self.authenticated:
                raise
            answer = await self.call(device, "GetSystemDateAndTime")
        local = datetime.fromtimestamp((started + time()) / 2, UTC)
        camera_utc = _camera_utc(answer)
        offset = None if camera_utc is None else (camera_utc - local).total_seconds()
        if offset is not None and abs(offset) > 1:
            # Rebuild the device service so its UsernameToken carries the camera's time.
            self.camera.dt_diff = timedelta(seconds=offset)
            await device.close()
            self.camera.services.pop(device.binding_key, None)
            device = await self._create("devicemgmt")
        self._devicemgmt = device
        return offset

    async def discover_services(self) -> dict[str, str]:
        """Namespace -> XAddr, from GetServices, or GetCapabilities on older devices."""
        found: dict[str, str] = {}
        try:
            services = await self.call(self.devicemgmt, "GetServices", {"IncludeCapability": False})
        except (AuthenticationFailed, Timeout):
            raise
        except AdapterError:
            services = None  # older devices: GetCapabilities below
        for service in services or []:
            namespace, xaddr = _get(service, "Namespace"), _get(service, "XAddr")
            if isinstance(namespace, str) and isinstance(xaddr, str) and xaddr:
                found[namespace] = self._local(xaddr)
        if NS_MEDIA not in found:
            capabilities = await self.call(self.devicemgmt, "GetCapabilities", {"Category": "All"})
            for category, namespace in _CAPABILITY_CATEGORIES.items():
                xaddr = _get(_get(capabilities, category), "XAddr")
                if isinstance(xaddr, str) and xaddr:
                    found.setdefault(namespace, self._local(xaddr))
        found.setdefault(NS_DEVICE, self.url)
        return found

    async def service(self, name: str, services: dict[str, str]) -> ONVIFService:
        if SERVICES[name]["ns"] not in services:
            raise NotSupported(f"the device at {self.url} offers no ONVIF {name} service")
        self.camera.xaddrs = dict(services)
        return await self._create(name)

    async def stream_uri(self, media: ONVIFService, token: str) -> str | None:
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        try:
            answer = await self.call(
                media, "GetStreamUri", {"StreamSetup": setup, "ProfileToken": token}
            )
        except (AuthenticationFailed, Timeout):
            raise
        except AdapterError:
            return None  # this profile has no RTSP stream; the others may
        return clean_uri(_get(answer, "Uri"))

    async def snapshot_uri(self, media: ONVIFService, token: str) -> str | None:
        try:
            answer = await self.call(media, "GetSnapshotUri", {"ProfileToken": token})
        except (AuthenticationFailed, Timeout):
            raise
        except AdapterError:
            return None  # snapshots are optional in Profile S
        return clean_uri(_get(answer, "Uri"))

    async def _create(self, name: str) -> ONVIFService:
        # Loads the bundled WSDL (local files, cached per process) and opens no connection.
        try:
            return await self.camera.create_onvif_service(name)
        except ONVIFError:
            raise NotSupported(f"the device at {self.url} offers no ONVIF {name} service") from None

    def _local(self, xaddr: str) -> str:
        """`xaddr`'s path and query at the target's scheme, host and port."""
        advertised = urlsplit(split_userinfo(xaddr)[0])
        ours = urlsplit(self.url)
        return urlunsplit(
            ours._replace(path=advertised.path or DEVICE_PATH, query=advertised.query)
        )

    def error(self, exc: Exception, operation: str, endpoint: str) -> AdapterError:
        """`exc`, raised while calling `operation` at `endpoint`, as an `AdapterError`."""
        where = f"{operation} at {endpoint}"
        error = classify_error(exc, where, self.timeout_s)
        return type(error)(error.message, secrets=(self.target.password,))


def classify_error(exc: Exception, where: str, timeout_s: float) -> AdapterError:
    """The `AdapterError` for `exc`, raised by the ONVIF client during `where`."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return Timeout(f"{where}: no answer within {timeout_s:g} s")
    if isinstance(exc, zeep.exceptions.Fault):
        return _fault(exc, where)
    if isinstance(exc, zeep.exceptions.TransportError):
        return _transport_error(exc, where)
    if isinstance(exc, zeep.exceptions.XMLSyntaxError):
        # zeep names the root it found instead of a SOAP Envelope (XHTML parses as XML).
        found = _ROOT_FOUND.search(str(exc.message))
        root = found.group(1).rpartition("}")[2] if found else "?"
        kind = "HTML" if root.lower() == "html" else f"an XML <{root[:40]}> document"
        return NotSupported(f"{where}: the answer is {kind}; not an ONVIF device service")
    if isinstance(exc, zeep.exceptions.Error):
        return ProtocolError(f"{where}: the SOAP answer does not match the ONVIF schema")
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return Unreachable(f"{where}: the host name does not resolve")
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionError | OSError):
        return _os_error(exc, where)
    if isinstance(exc, aiohttp.ClientError):
        return ProtocolError(f"{where}: the connection ended without a valid HTTP answer")
    if isinstance(exc, ValueError | LookupError | TypeError | AttributeError):
        # zeep parses leniently, then trips over what it recovered: undeclared prefixes, cut
        # elements, values of the wrong type.
        return ProtocolError(f"{where}: malformed SOAP answer ({type(exc).__name__})")
    if isinstance(exc, ONVIFError):
        return ProtocolError(f"{where}: the ONVIF client failed ({type(exc.__cause__).__name__})")
    return ProtocolError(f"{where}: unexpected {type(exc).__name__}")


def _os_error(exc: OSError, where: str) -> AdapterError:
    if exc.errno == errno.ECONNREFUSED or isinstance(exc, ConnectionRefusedError):
        return ConnectionRefused(f"{where}: connection refused; check the host and port")
    if exc.errno in _UNREACHABLE_ERRNOS:
        return Unreachable(f"{where}: no route to the host")
    if exc.errno == errno.ETIMEDOUT:
        return Timeout(f"{where}: the connection timed out")
    if isinstance(exc, ConnectionResetError | aiohttp.ServerDisconnectedError):
        return ProtocolError(f"{where}: the connection was closed without an answer")
    return Unreachable(f"{where}: {exc.strerror or type(exc).__name__}")


def _fault(fault: zeep.exceptions.Fault, where: str) -> AdapterError:
    if fault.code is None and fault.message == _ZEEP_NO_FAULT:
        return ProtocolError(f"{where}: malformed SOAP answer (an error without a SOAP fault)")
    subcodes = [str(getattr(code, "localname", code)) for code in fault.subcodes or []]
    reason = " ".join(str(fault.message or "no reason given").split())[:_TEXT_LIMIT]
    evidence = " ".join([str(fault.code or ""), *subcodes, reason]).lower()
    if any(marker in evidence for marker in _NOT_AUTHORIZED):
        return AuthenticationFailed(f"{where}: the camera rejected the credentials ({reason})")
    if "actionnotsupported" in evidence or "not supported" in evidence:
        return NotSupported(f"{where}: the device does not support it ({reason})")
    return ProtocolError(f"{where}: the camera answered with a SOAP fault ({reason})")


def _transport_error(exc: zeep.exceptions.TransportError, where: str) -> AdapterError:
    status = exc.status_code
    if status in (401, 403):
        return AuthenticationFailed(f"{where}: HTTP {status}; the camera rejected the credentials")
    content = exc.content if isinstance(exc.content, bytes) else b""
    head = content[:2048].lstrip().lower()
    if head.startswith((b"<?xml", b"<soap", b"<s:", b"<env:")) or b"envelope" in head:
        return ProtocolError(f"{where}: HTTP {status} with malformed SOAP (not well-formed XML)")
    if not content:
        return NotSupported(f"{where}: HTTP {status} without a SOAP answer; not an ONVIF service")
    kind = "HTML" if b"<html" in head or b"<!doctype html" in head else "a non-SOAP answer"
    return NotSupported(f"{where}: HTTP {status} with {kind}; not an ONVIF device service")


def clean_uri(uri: object) -> str | None:
    """`uri` without userinfo or credential parameters, if the schema can hold it."""
    if not isinstance(uri, str) or not uri.strip():
        return None
    parts = urlsplit(split_userinfo(uri.strip())[0])
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _CREDENTIAL_PARAMS
    ]
    clean = urlunsplit(parts._replace(query=urlencode(query)))
    try:
        return _STREAM_URI.validate_python(clean)
    except ValidationError:
        return None


async def _streams(
    device: _Device, media: ONVIFService, profiles: list[Any]
) -> list[StreamProfile]:
    streams = [
        _stream(profile, await device.stream_uri(media, _get(profile, "token")))
        for profile in _video_profiles(profiles)
    ]
    return _ranked(streams)


def _video_profiles(profiles: list[Any]) -> list[Any]:
    """Profiles with a video encoder and a usable, unique token; at most the schema's limit."""
    seen: set[str] = set()
    chosen: list[Any] = []
    for profile in profiles:
        token = _text(_get(profile, "token"))
        if token is None or token in seen or _get(profile, "VideoEncoderConfiguration") is None:
            continue  # audio or metadata profiles offer no video stream
        seen.add(token)
        chosen.append(profile)
    return chosen[:_STREAM_LIMIT]


def _snapshot_token(streams: list[StreamProfile]) -> str | None:
    """The profile to ask a snapshot URI for: main, else the largest (the first of equals)."""
    main = next((s for s in streams if s.role is StreamRole.MAIN), None)
    if main is None and streams:
        main = max(streams, key=_pixels)
    return main.token if main else None


def _stream(profile: Any, uri: str | None) -> StreamProfile:
    encoder = _get(profile, "VideoEncoderConfiguration")
    resolution = _get(encoder, "Resolution")
    rate = _get(encoder, "RateControl")
    fps = _number(_get(rate, "FrameRateLimit"), 1000)
    codec = _text(_get(encoder, "Encoding"))
    return StreamProfile(
        token=_text(_get(profile, "token")) or "unnamed",
        name=_text(_get(profile, "Name")),
        uri=uri,
        codec=codec if codec and codec.replace("-", "").replace(".", "").isalnum() else None,
        width=_integer(_get(resolution, "Width"), 16384),
        height=_integer(_get(resolution, "Height"), 16384),
        fps=float(fps) if fps is not None else None,
        bitrate_kbps=_integer(_get(rate, "BitrateLimit"), 1_000_000),
    )


def _ranked(streams: Iterable[StreamProfile]) -> list[StreamProfile]:
    """Main = the highest resolution with a URI; sub = the lowest other one with a URI."""
    streams = list(streams)
    playable = [s for s in streams if s.uri is not None and s.width and s.height]
    if not playable:
        return streams
    main = max(playable, key=_pixels)  # max keeps the first of equals: cameras list best first
    others = [s for s in playable if s is not main]
    sub = min(others, key=_pixels) if others else None
    roles = {id(main): StreamRole.MAIN, **({id(sub): StreamRole.SUB} if sub else {})}
    return [s.model_copy(update={"role": roles.get(id(s), StreamRole.OTHER)}) for s in streams]


def _pixels(stream: StreamProfile) -> int:
    return (stream.width or 0) * (stream.height or 0)


def _camera_utc(answer: Any) -> datetime | None:
    utc = _get(answer, "UTCDateTime")
    date, clock = _get(utc, "Date"), _get(utc, "Time")
    try:
        return datetime(
            int(_get(date, "Year")),
            int(_get(date, "Month")),
            int(_get(date, "Day")),
            int(_get(clock, "Hour")),
            int(_get(clock, "Minute")),
            int(_get(clock, "Second")),
            tzinfo=UTC,
        )
    except (TypeError, ValueError):
        return None  # no UTC time, or an impossible one: the offset stays unknown


def _get(value: Any, name: str) -> Any:
    """A field of a zeep object or dict; None when absent."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(name)
    try:
        return value[name]
    except (KeyError, TypeError, IndexError, AttributeError):
        return getattr(value, name, None)


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace("\x00", "").split())[:_TEXT_LIMIT]
    return text or None


def _number(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 < value <= limit and math.isfinite(value) else None


def _integer(value: Any, limit: int) -> int | None:
    number = _number(value, limit)
    return int(number) if number is not None and number >= 1 else None
