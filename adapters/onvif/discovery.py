"""WS-Discovery: find ONVIF devices on the local network, bounded in time.

ONVIF devices listen on the WS-Discovery multicast group (239.255.255.250, UDP 3702) and answer
a Probe for the type dn:NetworkVideoTransmitter with a ProbeMatch: an endpoint reference
(urn:uuid:…), the XAddrs of their device service and scopes (onvif://www.onvif.org/name/…,
hardware/…, location/…). `probe_message` and `parse_probe_matches` are pure; `discover` sends
one Probe (twice, as WS-Discovery repeats UDP messages) and collects answers until its time is up:
nobody can tell when every device has answered, so it always takes `timeout_s`.

Answers are untrusted network input: parsed with defusedxml (no DTDs or entities), read by local
name, bounded in size and number, and only answers to our own Probe (RelatesTo) are kept.
"""

import asyncio
import logging
import math
import socket
import uuid
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from adapters.base import Unreachable
from adapters.onvif.soap import child, local_name
from adapters.redaction import split_userinfo

MULTICAST_GROUP: Final = ("239.255.255.250", 3702)
NS_WSA: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSD: Final = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NS_DN: Final = "http://www.onvif.org/ver10/network/wsdl"
PROBE_ACTION: Final = f"{NS_WSD}/Probe"
MAX_DEVICES: Final = 1000
_MAX_DATAGRAM: Final = 65_535
_REPEAT_AFTER_S: Final = 0.1  # WS-Discovery: a UDP message is sent again after 50-250 ms
_TEXT_LIMIT: Final = 200
_LIST_LIMIT: Final = 32
_SCOPE_PREFIX: Final = "onvif://www.onvif.org/"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """One device's answer to a Probe."""

    endpoint: str  # its stable identity, usually urn:uuid:…
    xaddrs: tuple[str, ...]  # device service URLs, http(s) only, without userinfo
    types: tuple[str, ...]
    scopes: tuple[str, ...]
    name: str | None  # from the onvif://www.onvif.org/name/… scope
    hardware: str | None
    location: str | None
    source: str  # the IP address the answer came from


def probe_message(message_id: str) -> bytes:
    """A WS-Discovery Probe for ONVIF video transmitters, as a SOAP 1.2 envelope."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        f'xmlns:a="{NS_WSA}" xmlns:d="{NS_WSD}" xmlns:dn="{NS_DN}">'
        "<s:Header>"
        f"<a:Action>{PROBE_ACTION}</a:Action>"
        f"<a:MessageID>{_escape(message_id)}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
        "</s:Header>"
        "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>"
        "</s:Envelope>"
    ).encode()


def parse_probe_matches(data: bytes, message_id: str, source: str) -> list[DiscoveredDevice]:
    """The devices a datagram describes, if it answers our Probe `message_id`; else [].

    Accepts ProbeMatch elements inside ProbeMatches (as the specification says) or directly in
    the Body (as some firmware sends them). Malformed datagrams give [].
    """
    try:
        root = safe_et.fromstring(data[:_MAX_DATAGRAM], forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        return []
    if local_name(root.tag) != "Envelope":
        return []
    if _text(child(child(root, "Header"), "RelatesTo")) != message_id:
        return []  # a Hello, or an answer to someone else's Probe
    body = child(root, "Body")
    if body is None:
        return []
    matches = [e for e in body.iter() if local_name(e.tag) == "ProbeMatch"]
    found = (_device(match, source) for match in matches[:MAX_DEVICES])
    return [device for device in found if device is not None]


def _device(match: Element, source: str) -> DiscoveredDevice | None:
    endpoint = _text(child(child(match, "EndpointReference"), "Address"))
    xaddrs = tuple(uri for uri in (_clean_xaddr(x) for x in _words(child(match, "XAddrs"))) if uri)
    if not endpoint and not xaddrs:
        return None
    scopes = _words(child(match, "Scopes"))
    return DiscoveredDevice(
        endpoint=endpoint or xaddrs[0],
        xaddrs=xaddrs,
        types=_words(child(match, "Types")),
        scopes=scopes,
        name=_scope(scopes, "name"),
        hardware=_scope(scopes, "hardware"),
        location=_scope(scopes, "location"),
        source=source,
    )


def _clean_xaddr(uri: str) -> str | None:
    """`uri` without userinfo, if it is an http(s) URL with a host."""
    parts = urlsplit(split_userinfo(uri)[0])
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.geturl()[: _TEXT_LIMIT * 10]


def _scope(scopes: tuple[str, ...], kind: str) -> str | None:
    """The percent-decoded value of the first onvif://www.onvif.org/<kind>/… scope."""
    prefix = f"{_SCOPE_PREFIX}{kind}/"
    for scope in scopes:
        if scope.lower().startswith(prefix):
            value = " ".join(unquote(scope[len(prefix) :]).split())
            return value[:_TEXT_LIMIT] or None
    return None


def _words(element: Element | None) -> tuple[str, ...]:
    return tuple(word[: _TEXT_LIMIT * 10] for word in _text(element).split()[:_LIST_LIMIT])


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Collector(asyncio.DatagramProtocol):
    """Keeps the devices that answer `message_id`, first answer per endpoint."""

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.devices: dict[str, DiscoveredDevice] = {}
        self.error: OSError | None = None

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source = str(addr[0])
        for device in parse_probe_matches(data, self.message_id, source):
            if len(self.devices) < MAX_DEVICES:
                self.devices.setdefault(device.endpoint, device)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self.error = exc


async def discover(
    timeout_s: float,
    destination: tuple[str, int] = MULTICAST_GROUP,
    interface: str | None = None,
) -> list[DiscoveredDevice]:
    """ONVIF devices that answer a Probe sent to `destination` within `timeout_s` seconds.

    `destination` is the multicast group by default, or one device's address for a directed
    Probe; `interface` is the local IPv4 address to send multicast from (default: the route's).
    Raises `Unreachable` when the Probe cannot be sent and nothing answered.
    """
    if not (math.isfinite(timeout_s) and timeout_s > 0):
        raise ValueError("timeout_s must be a positive number of seconds")
    message_id = f"urn:uuid:{uuid.uuid4()}"
    message = probe_message(message_id)
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(
        lambda: _Collector(message_id),
        local_addr=(interface or "0.0.0.0", 0),
        family=socket.AF_INET,
    )
    try:
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)  # this network only
        if interface:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
        repeat_at = min(_REPEAT_AFTER_S, timeout_s / 2)
        for wait in (repeat_at, timeout_s - repeat_at):
            transport.sendto(message, destination)
            await asyncio.sleep(wait)
    except OSError as exc:
        collector.error = exc
    finally:
        transport.close()
    if collector.error is not None and not collector.devices:
        reason = collector.error.strerror or type(collector.error).__name__
        raise Unreachable(f"the WS-Discovery probe to {destination[0]} failed: {reason}")
    return sorted(collector.devices.values(), key=lambda d: (d.source, d.endpoint))
