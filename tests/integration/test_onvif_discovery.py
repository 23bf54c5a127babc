"""WS-Discovery against ipycam's own discovery server, kept on loopback: multicast on 127.0.0.1
to a free port of the group instead of every interface's UDP 3702; and the time bound."""

import asyncio
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.base import Unreachable
from adapters.onvif.discovery import MULTICAST_GROUP, discover
from hub.cli import app

GROUP = MULTICAST_GROUP[0]
LOOPBACK = "127.0.0.1"
TIMEOUT_S = 1.0
SLACK_S = 0.5


@dataclass(frozen=True)
class Responder:
    port: int  # of the multicast group, on loopback
    endpoint: str  # the device's urn:uuid
    device_url: str


def _loopback_socket() -> socket.socket:
    """Bound to the group (so only its datagrams arrive) on a free port, joined on loopback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((GROUP, 0))
    membership = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(LOOPBACK))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(LOOPBACK))
    sock.settimeout(0.2)
    return sock


@pytest.fixture(scope="module")
def responder() -> Iterator[Responder]:
    """ipycam's WSDiscoveryServer (its Probe detection, ProbeMatch and Hello/Bye) on loopback."""
    from ipycam.config import CameraConfig
    from ipycam.discovery import WSDiscoveryServer
    from ipycam.onvif import ONVIFService

    class LoopbackDiscovery(WSDiscoveryServer):  # type: ignore[misc]  # ipycam is untyped
        def __init__(self, service: Any, sock: socket.socket) -> None:
            threading.Thread.__init__(self, daemon=True)
            self.onvif, self.sock, self.running = service, sock, True
            self.MULTICAST_PORT = sock.getsockname()[1]  # where its Hello and Bye go

    config = CameraConfig(name="Gate-3", local_ip=LOOPBACK, onvif_port=18080)
    service = ONVIFService(config, None)
    sock = _loopback_socket()
    server = LoopbackDiscovery(service, sock)
    server.start()
    try:
        yield Responder(sock.getsockname()[1], service.device_uuid, config.onvif_url)
    finally:
        server.stop()
        server.join(timeout=5)


def _timed(destination: tuple[str, int], interface: str = LOOPBACK) -> tuple[list[Any], float]:
    started = time.monotonic()
    devices = asyncio.run(discover(TIMEOUT_S, destination, interface))
    return devices, time.monotonic() - started


def test_discover_finds_ipycam_over_loopback_multicast(responder: Responder) -> None:
    devices, elapsed = _timed((GROUP, responder.port))
    [device] = devices  # its repeated answer (we send the Probe twice) counts once
    assert device.endpoint == responder.endpoint
    assert device.xaddrs == (responder.device_url,)
    assert device.name == "Gate-3" and device.source == LOOPBACK
    assert "dn:NetworkVideoTransmitter" in device.types
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + SLACK_S


def test_discover_with_no_answer_ends_empty_at_its_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as unused:
        unused.bind((LOOPBACK, 0))
        silent_port = unused.getsockname()[1]
    devices, elapsed = _timed((GROUP, silent_port))
    assert devices == []
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + SLACK_S


def test_a_probe_that_cannot_be_sent_is_unreachable_at_once() -> None:
    # A socket bound to loopback cannot send to another network: the kernel refuses at once.
    started = time.monotonic()
    with pytest.raises(Unreachable, match=r"WS-Discovery probe to 203\.0\.113\.9 failed"):
        asyncio.run(discover(TIMEOUT_S, ("203.0.113.9", 3702), LOOPBACK))
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S


def test_discover_rejects_a_timeout_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        asyncio.run(discover(0, (GROUP, 1), LOOPBACK))


def test_cli_prints_the_devices_as_json(responder: Responder) -> None:
    command = ["camera", "discover", "--timeout", "1", "--interface", LOOPBACK]
    result = CliRunner().invoke(app, [*command, "--address", f"{GROUP}:{responder.port}"])
    assert result.exit_code == 0, result.output
    [device] = json.loads(result.stdout)
    assert device["endpoint"] == responder.endpoint
    assert device["xaddrs"] == [responder.device_url] and device["name"] == "Gate-3"


def test_cli_refuses_a_bad_address_with_a_fix() -> None:
    result = CliRunner().invoke(app, ["camera", "discover", "--address", "239.255.255.250:x"])
    assert result.exit_code == 1
    assert "give --address as HOST or HOST:PORT" in result.stderr
