"""`c4hub camera …`: talk to a camera before (or without) registering it."""

import asyncio
from typing import Annotated, Final, NoReturn
from urllib.parse import urlsplit, urlunsplit

import typer

camera_app = typer.Typer(help="Cameras: probe a device by its address.", no_args_is_help=True)

# URL scheme -> adapter entry-point name (group "c4hub.adapters").
ADAPTER_BY_SCHEME: Final = {
    "onvif": "onvif",
    "http": "onvif",
    "https": "onvif",
    "rtsp": "rtsp",
    "rtsps": "rtsp",
}
ONVIF_DEVICE_PATH: Final = "/onvif/device_service"
HINTS: Final = {
    "unreachable": "check the address and that this machine has a route to the camera",
    "connection_refused": "nothing listens on that port; check the ONVIF port (often 80 or 8080)",
    "authentication_failed": "check --user and the password; some cameras lock after failures",
    "not_supported": "the address answers, but not as an ONVIF device service",
    "protocol_error": "the camera's answer is broken; retry, then check its firmware",
    "timeout": "the camera is slow or silent; retry with a larger --timeout",
    "stream_not_found": "check the stream path",
}
RTSP_HINTS: Final = {
    **HINTS,
    "connection_refused": "nothing listens on that port; check the RTSP port (often 554)",
    "not_supported": "the address answers RTSP, but its stream carries no video",
    "stream_not_found": "check the stream path; each vendor names its own (see its manual)",
}
SNAPSHOT_HINTS: Final = {
    **HINTS,
    "connection_refused": "nothing listens on that port; check the camera's HTTP port",
    "not_supported": "the address answers, but not with a JPEG; check the snapshot URL",
    "stream_not_found": "check the snapshot path; each vendor names its own (see its manual)",
}
VLC_HINTS: Final = {
    **HINTS,
    "connection_refused": "nothing listens on that port; check the address",
    "not_supported": "see the message; for rtsp:// sources use --adapter rtsp",
    "stream_not_found": "check the path of the stream or file",
}
HINTS_BY_ADAPTER: Final = {"rtsp": RTSP_HINTS, "http_snapshot": SNAPSHOT_HINTS, "vlc": VLC_HINTS}


def _fail(message: str, code: int = 1) -> NoReturn:
    from hub.cli import fail

    fail(message, code)


def _onvif_url(url: str) -> str:
    """The device service URL for onvif://host[:port] or http(s)://host[:port][/onvif/…]."""
    parts = urlsplit(url)
    scheme = "http" if parts.scheme == "onvif" else parts.scheme
    if parts.path in ("", "/"):
        return urlunsplit((scheme, parts.netloc, ONVIF_DEVICE_PATH, "", ""))
    if parts.scheme == "onvif" or parts.path != ONVIF_DEVICE_PATH or parts.query:
        _fail(
            f"an ONVIF device service is at {ONVIF_DEVICE_PATH}; "
            "give onvif://HOST[:PORT] or http://HOST[:PORT]/onvif/device_service"
        )
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


@camera_app.command("probe")
def probe(
    url: Annotated[
        str,
        typer.Argument(
            help="onvif://HOST[:PORT], http(s)://HOST[:PORT]/onvif/device_service "
            "or rtsp://HOST[:PORT]/PATH",
            show_default=False,
        ),
    ],
    user: Annotated[str | None, typer.Option("--user", help="Camera user name")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="C4HUB_CAMERA_PASSWORD",
            show_envvar=True,
            help="Camera password; prefer the environment variable, which stays out of "
            "shell history and process listings",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, max=300, help="Seconds allowed per camera call")
    ] = 10.0,
    adapter_name: Annotated[
        str | None,
        typer.Option(
            "--adapter",
            help="onvif, rtsp, vlc, http_snapshot or another installed adapter; "
            "default: guessed from the URL scheme (http means ONVIF)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Probe a camera and print what it is and offers as JSON (a CameraDescription).

    Over ONVIF: maker, model, firmware, streams (main and sub picked by resolution),
    snapshot URI, PTZ, capabilities and the camera's clock offset. Over RTSP: the
    stream's codec, size and frame rate, read by opening it (TCP). With --adapter vlc:
    the same, read by libVLC (files, HTTP, HLS, MJPEG); --adapter http_snapshot: the size
    of the JPEG the URL serves. URIs never carry credentials. Errors end in one line,
    `error: <code>: <message>`, exit status 1.

    Examples:
      export C4HUB_CAMERA_PASSWORD  # typed at a prompt: read -rs C4HUB_CAMERA_PASSWORD
      c4hub camera probe onvif://192.0.2.10 --user admin
      c4hub camera probe http://cam.example:8080/onvif/device_service --timeout 5
      c4hub camera probe rtsp://192.0.2.10:554/Streaming/Channels/101 --user admin
      c4hub camera probe http://192.0.2.10/snap.jpg --adapter http_snapshot
      c4hub camera probe http://192.0.2.10:8080/video.mjpg --adapter vlc
    """
    from adapters.base import AdapterError, Target
    from adapters.registry import AdapterLoadError, AdapterRegistry, UnknownAdapter

    scheme = urlsplit(url).scheme.lower()
    name = adapter_name or ADAPTER_BY_SCHEME.get(scheme)
    if name is None:
        # Not echoed: without a known scheme, a password in the address cannot be told apart.
        _fail(
            "cannot tell how to talk to that address; "
            "give onvif://HOST[:PORT], http://HOST[:PORT]/onvif/device_service "
            "or rtsp://HOST[:PORT]/PATH"
        )
    try:
        adapter = AdapterRegistry.installed().create(name)
    except (UnknownAdapter, AdapterLoadError) as exc:
        _fail(str(exc))
    try:
        address = _onvif_url(url) if name == "onvif" else url
        target = Target.from_uri(address, username=user, password=password, timeout_s=timeout)
    except ValueError as exc:
        _fail(f"invalid camera address: {exc}")
    try:
        description = asyncio.run(adapter.probe(target))
    except AdapterError as exc:
        hint = HINTS_BY_ADAPTER.get(name, HINTS).get(exc.code, "")
        message = target.redact(exc.message)
        _fail(f"{exc.code}: {message}" + (f" (hint: {hint})" if hint else ""))
    typer.echo(description.model_dump_json(indent=2))


@camera_app.command("discover")
def discover(
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.2, max=60, help="Seconds to wait for answers")
    ] = 3.0,
    interface: Annotated[
        str | None,
        typer.Option("--interface", help="Local IPv4 address to send from", show_default=False),
    ] = None,
    address: Annotated[
        str,
        typer.Option(
            "--address", help="Where to send the Probe: HOST[:PORT], multicast or one device"
        ),
    ] = "239.255.255.250:3702",
) -> None:
    """Find ONVIF devices on the local network (WS-Discovery) and print them as a JSON array.

    Sends one Probe and lists every device that answers within --timeout seconds (the
    command always takes that long): its endpoint id, device service URLs (give one to
    `c4hub camera probe`), name, hardware and location scopes. Multicast reaches only this
    network segment; --address HOST probes one device directly.

    Examples:
      c4hub camera discover --timeout 5
      c4hub camera discover --interface 192.0.2.20 --address 192.0.2.10
    """
    import dataclasses
    import json

    from adapters.base import AdapterError
    from adapters.onvif.discovery import discover as ws_discover

    host, _, port = address.rpartition(":") if ":" in address else (address, "", "3702")
    if not port.isdigit() or not 1 <= int(port) <= 65535 or not host:
        _fail("give --address as HOST or HOST:PORT, e.g. 239.255.255.250:3702")
    try:
        devices = asyncio.run(ws_discover(timeout, (host, int(port)), interface))
    except AdapterError as exc:
        _fail(f"{exc.code}: {exc.message} (hint: check --interface and --address)")
    except OSError as exc:  # the local address cannot be bound or the host does not resolve
        _fail(f"cannot send from {interface or 'this host'}: {exc.strerror or exc}")
    if not devices:
        typer.echo(f"no ONVIF device answered within {timeout:g} s", err=True)
    typer.echo(json.dumps([dataclasses.asdict(d) for d in devices], indent=2))
