"""Where the node reaches a camera through its adapter, for probes and snapshots: pure.

ONVIF talks to the device service: `device_uri` when the camera has one, else the stream URI
itself when it is the http(s) device-service URL, else the default device service on the
stream's host (port 80). HTTP snapshot cameras are reached at their snapshot URI. Every other
adapter opens the stream (or the snapshot URI when there is no stream).
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from adapters.base import Target
from hub.registry.secrets import PlainCredentials
from schemas.enums import AdapterKind


@dataclass(frozen=True)
class Address:
    """A camera's addresses as the registry holds them."""

    adapter: AdapterKind
    stream_uri: str | None
    snapshot_uri: str | None
    device_uri: str | None
    sealed: bytes | None = field(default=None, repr=False)

    @property
    def reachable(self) -> bool:
        return bool(self.stream_uri or self.snapshot_uri or self.device_uri)


def is_http(uri: str | None) -> bool:
    return uri is not None and urlsplit(uri).scheme in ("http", "https")


def target_for(address: Address, creds: PlainCredentials | None, timeout_s: float) -> Target:
    """The adapter's target. Raises ValueError with a message that never echoes values."""
    username = creds.username if creds else None
    password = creds.password if creds else None
    if address.adapter is AdapterKind.ONVIF:
        uri = address.device_uri or address.stream_uri or address.snapshot_uri or ""
        if not is_http(uri):
            host = Target.from_uri(uri).host
            return Target(host=host, username=username, password=password, timeout_s=timeout_s)
    elif address.adapter is AdapterKind.HTTP_SNAPSHOT:
        uri = address.snapshot_uri or address.stream_uri or ""
    else:
        uri = address.stream_uri or address.snapshot_uri or ""
    return Target.from_uri(uri, username=username, password=password, timeout_s=timeout_s)
