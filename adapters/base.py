"""The adapter contract: what the hub asks of every camera protocol, and how it fails.

Adapters never import `hub`: they take a `Target`, return `schemas` values, raise an
`AdapterError`, and hand events to the `EventSink` they are given.
"""

import errno
import math
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, Self, runtime_checkable
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

from adapters.redaction import redact, split_userinfo
from schemas.adapters import CameraDescription
from schemas.enums import AdapterKind
from schemas.events import NormalizedEvent

GrayFrame = npt.NDArray[np.uint8]
"""A decoded picture as luminance, height x width."""

ColorFrame = npt.NDArray[np.uint8]
"""A decoded picture as BGR, height x width x 3 (OpenCV's order, what detectors take)."""

EventSink = Callable[[NormalizedEvent], Awaitable[None]]
"""Where an adapter delivers the events it receives (the hub publishes them)."""

# A host name, IPv4 address or bracketed IPv6 address: nothing that could smuggle userinfo.
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a camera is and how to log in. Credentials stay out of `repr` and of `uri`."""

    host: str
    port: int | None = None
    uri: str | None = None  # the stream, snapshot or device-service URI, without userinfo
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0  # per network call

    def __post_init__(self) -> None:
        # Messages never echo the values: a misplaced password could be among them.
        if not _HOST.match(self.host):
            raise ValueError("host must be a host name or an IP address")
        if self.port is not None and not 1 <= self.port <= 65535:
            raise ValueError("port must be between 1 and 65535")
        if self.uri is not None and "@" in urlsplit(self.uri).netloc:
            raise ValueError("put credentials in username/password, not in the URI")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ValueError("timeout_s must be a positive number of seconds")

    @classmethod
    def from_uri(
        cls,
        uri: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> Self:
        """A target for `uri`; credentials found in its userinfo move to the fields."""
        clean, uri_username, uri_password = split_userinfo(uri)
        parts = urlsplit(clean)
        if not parts.hostname:
            raise ValueError("the URI has no host")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return cls(
            host=host,
            port=parts.port,
            uri=clean,
            username=username if username is not None else uri_username,
            password=password if password is not None else uri_password,
            timeout_s=timeout_s,
        )

    @property
    def has_credentials(self) -> bool:
        return self.username is not None or self.password is not None

    def redact(self, text: str) -> str:
        """`text` safe to log or return: URI credentials and this target's password masked."""
        return redact(text, (self.password,))

    def with_userinfo(self, uri: str) -> str:
        """`uri` with this target's credentials as percent-encoded userinfo, for libraries that
        only take credentials in the URL (FFmpeg, libVLC). Never log the result."""
        if not self.has_credentials:
            return uri
        parts = urlsplit(uri)
        userinfo = quote(self.username or "", safe="")
        if self.password is not None:
            userinfo += ":" + quote(self.password, safe="")
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """The password, raw and as `with_userinfo` percent-encodes it: what to redact."""
        password = self.password
        return (password, quote(password, safe="") if password else None)


def is_refused(exc: BaseException) -> bool:
    """Whether `exc` or an exception it arose from is a refused connection."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or (
            isinstance(current, OSError) and current.errno == errno.ECONNREFUSED
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


class AdapterError(Exception):
    """A camera operation failed. `code` is machine-readable; `message` is safe to show.

    The message is redacted on construction. Raise these `from None` when the underlying
    exception's text may hold credentials: many client libraries print the full URL.
    """

    code: ClassVar[str] = "adapter_error"
    title: ClassVar[str] = "The camera adapter failed"
    # The status an API request that waited on this camera answers with (problem+json).
    http_status: ClassVar[int] = 502

    def __init__(self, message: str | None = None, *, secrets: Iterable[str | None] = ()) -> None:
        self.message = redact(message or self.title, secrets)
        super().__init__(self.message)


class Unreachable(AdapterError):
    code = "unreachable"
    title = "The camera's host could not be reached"


class ConnectionRefused(AdapterError):
    code = "connection_refused"
    title = "The camera's host refused the connection on that port"


class AuthenticationFailed(AdapterError):
    code = "authentication_failed"
    title = "The camera rejected the credentials"


class NotSupported(AdapterError):
    code = "not_supported"
    title = "The device does not speak this adapter's protocol"


class ProtocolError(AdapterError):
    code = "protocol_error"
    title = "The camera sent a malformed answer"


class StreamNotFound(AdapterError):
    code = "stream_not_found"
    title = "The camera has no stream at that address"


class Timeout(AdapterError):
    code = "timeout"
    title = "The camera did not answer in time"
    http_status = 504


@runtime_checkable
class CameraAdapter(Protocol):
    """One camera protocol. Methods raise `AdapterError` subclasses, nothing else."""

    @property
    def kind(self) -> AdapterKind: ...

    async def probe(self, target: Target) -> CameraDescription:
        """Who the camera is and what it offers; fails if it is not this protocol."""
        ...

    async def snapshot(self, target: Target) -> bytes:
        """One still image, JPEG encoded."""
        ...


@runtime_checkable
class FrameSource(Protocol):
    """An adapter that can decode pictures for the health and tamper checks."""

    async def frames(
        self, target: Target, count: int, timeout: float | None = None
    ) -> list[GrayFrame]:
        """`count` consecutive frames as grayscale arrays (height x width, uint8), the whole
        call bounded by `timeout` (default: twice the target's timeout)."""
        ...
