"""Receive a camera's own analytics through an ONVIF PullPoint subscription (WS-BaseNotification).

`PullPointSubscription.run(sink, stop)` creates a subscription (CreatePullPointSubscription with
an InitialTerminationTime), pulls in a loop (PullMessages with Timeout and MessageLimit), turns
each answer into `NormalizedEvent`s (`notifications.parse_pull_messages`, then `EventParser`)
and hands them to the sink. It renews (Renew) once half the subscription's lifetime has passed,
and unsubscribes when `stop` is set. Any camera failure (timeout, refused connection, SOAP fault
such as ResourceUnknown, HTTP error, malformed answer) ends the subscription and a new one is
created after a bounded, jittered exponential backoff: `run` never returns on camera errors and
never spins.

Why raw SOAP over httpx rather than onvif-zeep-async (used by `device`): the pure parsers take
the response XML, which zeep does not hand back, and the four operations are small fixed
envelopes. WS-Security is a UsernameToken with PasswordDigest whose Created stamp is shifted by
the camera's clock offset (GetSystemDateAndTime), the same correction `device` applies; HTTP
Digest is offered too for firmware that wants it. Every call is bounded by the target's timeout
(plus the pull's own wait for PullMessages). Addresses the camera advertises keep their path but
take the target's scheme, host and port, as in `device`. Logged and raised messages are redacted.

The subscription reference may carry WS-Addressing ReferenceParameters (Axis, Bosch and Hanwha
put the subscription's id there, not in the address): they are echoed as SOAP headers, marked
wsa:IsReferenceParameter="true", in every later call on that subscription (WS-Addressing 1.0
Core, 3.3), since such cameras cannot tell their subscriptions apart without them.
"""

import asyncio
import base64
import contextlib
import hashlib
import logging
import math
import os
import random
import time
from collections.abc import Awaitable
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar
from urllib.parse import urlsplit, urlunsplit
from xml.etree.ElementTree import Element, tostring
from xml.sax.saxutils import escape

import httpx

from adapters.base import (
    AdapterError,
    AuthenticationFailed,
    ConnectionRefused,
    EventSink,
    ProtocolError,
    Target,
    Timeout,
    Unreachable,
    is_refused,
)
from adapters.onvif.device import DEVICE_PATH, device_service_url
from adapters.onvif.notifications import parse_pull_messages
from adapters.onvif.parsers import EventParser
from adapters.onvif.soap import SoapFault, child, local_name, parse_envelope
from adapters.redaction import split_userinfo

log = logging.getLogger(__name__)

NS_SOAP: Final = "http://www.w3.org/2003/05/soap-envelope"
NS_WSA: Final = "http://www.w3.org/2005/08/addressing"
NS_WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS_WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
_EVENTS_ACTION: Final = "http://www.onvif.org/ver10/events/wsdl"
_ACTIONS: Final = {
    "GetSystemDateAndTime": "http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime",
    "GetCapabilities": "http://www.onvif.org/ver10/device/wsdl/GetCapabilities",
    "CreatePullPointSubscription": (
        f"{_EVENTS_ACTION}/EventPortType/CreatePullPointSubscriptionRequest"
    ),
    "PullMessages": f"{_EVENTS_ACTION}/PullPointSubscription/PullMessagesRequest",
    "Renew": "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest",
    "Unsubscribe": "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest",
}
_NAMESPACES: Final = (
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:tev="http://www.onvif.org/ver10/events/wsdl" '
    'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"'
)
_MIN_EMPTY_PULL_S: Final = 0.2  # a camera ignoring Timeout answers at once; don't spin on it

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PullPointSettings:
    """Timing of a subscription. Defaults suit real cameras; tests shorten them."""

    termination_s: float = 60.0  # asked lifetime (InitialTerminationTime, Renew)
    pull_timeout_s: float = 10.0  # how long the camera may hold a PullMessages open
    message_limit: int = 64
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("termination_s", "pull_timeout_s", "backoff_initial_s", "backoff_max_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be at least backoff_initial_s")
        if not 1 <= self.message_limit <= 1024:
            raise ValueError("message_limit must be between 1 and 1024")


class _Stopped(Exception):
    """The stop event was set while a call was in flight."""


class PullPointSubscription:
    """One camera's event feed. Call `run` once; it returns when `stop` is set."""

    def __init__(
        self,
        target: Target,
        *,
        events_url: str | None = None,
        settings: PullPointSettings | None = None,
        parser: EventParser | None = None,
    ) -> None:
        self.target = target
        self.settings = settings or PullPointSettings()
        self.device_url = device_service_url(target)
        if urlsplit(self.device_url).scheme not in ("http", "https"):
            raise ValueError("an ONVIF device service URL is http:// or https://")
        self.events_url = self._local(events_url) if events_url else None
        self.parser = parser or EventParser()
        self.subscription_url: str | None = None
        self.reference_headers = ""  # the subscription's ReferenceParameters, as SOAP headers
        self.clock_offset = timedelta(0)
        self._renew_at = 0.0  # time.monotonic() after which the subscription is renewed
        self._failures = 0

    async def run(self, sink: EventSink, stop: asyncio.Event) -> None:
        """Deliver events to `sink` until `stop` is set; then unsubscribe and return.

        Camera failures are logged and retried; an exception from `sink` is the caller's bug
        and propagates (after a best-effort Unsubscribe).
        """
        auth = (
            httpx.DigestAuth(self.target.username or "", self.target.password or "")
            if self.target.has_credentials
            else None
        )
        # trust_env=False: no proxy from the environment sees the camera's credentials.
        async with httpx.AsyncClient(auth=auth, trust_env=False) as client:
            try:
                while not stop.is_set():
                    try:
                        await self._until(stop, self._subscribe(client))
                        while not stop.is_set():
                            await self._until(stop, self._step(client, sink))
                    except _Stopped:
                        break
                    except AdapterError as exc:
                        await self._recover(client, stop, exc)
            finally:
                await self._unsubscribe(client)

    async def _subscribe(self, client: httpx.AsyncClient) -> None:
        await self._sync_clock(client)
        if self.events_url is None:
            self.events_url = await self._discover_events(client)
        body = (
            "<tev:CreatePullPointSubscription><tev:InitialTerminationTime>"
            f"{_duration(self.settings.termination_s)}"
            "</tev:InitialTerminationTime></tev:CreatePullPointSubscription>"
        )
        xml = await self._call(client, self.events_url, "CreatePullPointSubscription", body)
        response = child(parse_envelope(xml).body, "CreatePullPointSubscriptionResponse")
        reference = child(response, "SubscriptionReference")
        address = _text(child(reference, "Address"))
        if response is None or not address:
            raise ProtocolError(
                "CreatePullPointSubscription: the answer holds no subscription address"
            )
        self.subscription_url = self._local(address)
        self.reference_headers = _reference_headers(child(reference, "ReferenceParameters"))
        self._schedule_renewal(response)
        log.info("subscribed to the events of %s", self.target.redact(self.device_url))

    async def _step(self, client: httpx.AsyncClient, sink: EventSink) -> None:
        """Renew when due, then one pull; its events go to `sink`."""
        url = self.subscription_url
        if url is None:
            raise RuntimeError("_step before _subscribe")
        if time.monotonic() >= self._renew_at:
            body = (
                "<wsnt:Renew><wsnt:TerminationTime>"
                f"{_duration(self.settings.termination_s)}"
                "</wsnt:TerminationTime></wsnt:Renew>"
            )
            xml = await self._call(client, url, "Renew", body)
            self._schedule_renewal(child(parse_envelope(xml).body, "RenewResponse"))
        # Never hold a pull past the renewal: the subscription could lapse meanwhile.
        # Whole seconds: some firmware rejects fractional durations.
        until_renewal = self._renew_at - time.monotonic()
        wait = float(max(1, int(min(self.settings.pull_timeout_s, until_renewal))))
        body = (
            f"<tev:PullMessages><tev:Timeout>{_duration(wait)}</tev:Timeout>"
            f"<tev:MessageLimit>{self.settings.message_limit}</tev:MessageLimit>"
            "</tev:PullMessages>"
        )
        started = time.monotonic()
        xml = await self._call(client, url, "PullMessages", body, extra_s=wait)
        notifications = parse_pull_messages(xml)
        self._failures = 0
        for notification in notifications:
            try:
                event = self.parser.parse(notification)
            except ProtocolError as exc:
                log.warning("an ONVIF event was dropped: %s", self.target.redact(exc.message))
                continue
            await sink(event)
        if not notifications:
            await asyncio.sleep(max(0.0, _MIN_EMPTY_PULL_S - (time.monotonic() - started)))

    async def _recover(
        self, client: httpx.AsyncClient, stop: asyncio.Event, exc: AdapterError
    ) -> None:
        """Drop the broken subscription, then wait a jittered, capped exponential backoff."""
        delay = min(
            self.settings.backoff_max_s, self.settings.backoff_initial_s * 2**self._failures
        )
        delay *= random.uniform(0.5, 1.0)  # jitter, not cryptography
        self._failures = min(self._failures + 1, 32)
        log.warning(
            "ONVIF events of %s interrupted (%s); subscribing again in %.1f s",
            self.target.redact(self.device_url),
            self.target.redact(exc.message),
            delay,
        )
        await self._unsubscribe(client)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    async def _unsubscribe(self, client: httpx.AsyncClient) -> None:
        """Best effort: the camera frees the pull point; failures are only logged."""
        url, self.subscription_url = self.subscription_url, None
        if url is None:
            return
        try:
            await self._call(client, url, "Unsubscribe", "<wsnt:Unsubscribe/>")
        except AdapterError as exc:
            log.info("Unsubscribe failed: %s", self.target.redact(exc.message))

    async def _sync_clock(self, client: httpx.AsyncClient) -> None:
        """Camera UTC minus ours, so the UsernameToken's Created is in the camera's time."""
        body = "<tds:GetSystemDateAndTime/>"
        try:
            xml = await self._call(
                client, self.device_url, "GetSystemDateAndTime", body, auth=False
            )
        except (Timeout, Unreachable, ConnectionRefused):
            raise
        except AdapterError:
            # Some firmware wants credentials even for the clock; others have none to give.
            try:
                xml = await self._call(client, self.device_url, "GetSystemDateAndTime", body)
            except (Timeout, Unreachable, ConnectionRefused):
                raise
            except AdapterError:
                return
        camera = _camera_utc(xml)
        if camera is not None:
            self.clock_offset = camera - datetime.now(UTC)

    async def _discover_events(self, client: httpx.AsyncClient) -> str:
        body = "<tds:GetCapabilities><tds:Category>Events</tds:Category></tds:GetCapabilities>"
        xml = await self._call(client, self.device_url, "GetCapabilities", body)
        events = next(
            (e for e in parse_envelope(xml).body.iter() if local_name(e.tag) == "Events"), None
        )
        address = _text(child(events, "XAddr"))
        if not address:
            raise ProtocolError("GetCapabilities: the device names no events service")
        return self._local(address)

    def _schedule_renewal(self, response: Element | None) -> None:
        """Renew after half the granted lifetime (the camera's TerminationTime - CurrentTime)."""
        lifetime = self.settings.termination_s
        if response is not None:
            current = _xs_datetime(_text(child(response, "CurrentTime")))
            end = _xs_datetime(_text(child(response, "TerminationTime")))
            if current is not None and end is not None and end > current:
                lifetime = min(lifetime, (end - current).total_seconds())
        self._renew_at = time.monotonic() + lifetime / 2

    async def _call(
        self,
        client: httpx.AsyncClient,
        url: str,
        operation: str,
        body: str,
        *,
        auth: bool = True,
        extra_s: float = 0.0,
    ) -> bytes:
        """POST one SOAP operation; the answer's bytes. Bounded; raises `AdapterError`."""
        where = f"{operation} at {self.target.redact(url)}"
        limit = self.target.timeout_s + extra_s
        envelope = self._envelope(url, operation, body, auth=auth)
        headers = {
            "Content-Type": f'application/soap+xml; charset=utf-8; action="{_ACTIONS[operation]}"'
        }
        try:
            async with asyncio.timeout(limit):
                answer = await client.post(url, content=envelope, headers=headers, timeout=limit)
        except (TimeoutError, httpx.TimeoutException):
            raise Timeout(f"{where}: no answer within {limit:g} s") from None
        except httpx.ConnectError as exc:
            if is_refused(exc):
                raise ConnectionRefused(f"{where}: connection refused") from None
            raise Unreachable(f"{where}: the host cannot be reached") from None
        except httpx.HTTPError as exc:
            raise ProtocolError(f"{where}: {type(exc).__name__}") from None
        if answer.status_code in (401, 403):
            raise AuthenticationFailed(f"{where}: HTTP {answer.status_code}")
        if answer.status_code >= 400:
            try:
                parse_envelope(answer.content)  # a SOAP fault says more than the status
            except SoapFault as exc:
                raise SoapFault(exc.codes, self.target.redact(f"{where}: {exc.reason}")) from None
            except AdapterError as exc:
                raise type(exc)(
                    f"{where}: {exc.message}", secrets=(self.target.password,)
                ) from None
            raise ProtocolError(f"{where}: HTTP {answer.status_code}")
        return answer.content

    def _envelope(self, url: str, operation: str, body: str, *, auth: bool) -> bytes:
        headers = self._security() if auth and self.target.has_credentials else ""
        # Only calls on the subscription carry its reference (the device service has none).
        if operation in ("PullMessages", "Renew", "Unsubscribe"):
            headers = self.reference_headers + headers
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:wsa="{NS_WSA}" {_NAMESPACES}>'
            f"<s:Header><wsa:Action>{_ACTIONS[operation]}</wsa:Action>"
            f"<wsa:To>{escape(url)}</wsa:To>{headers}</s:Header>"
            f"<s:Body>{body}</s:Body></s:Envelope>"
        ).encode()

    def _security(self) -> str:
        nonce = os.urandom(16)
        created = (datetime.now(UTC) + self.clock_offset).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        created += "Z"
        password = (self.target.password or "").encode()
        digest = hashlib.sha1(
            nonce + created.encode() + password
        ).digest()  # the UsernameToken profile fixes SHA-1
        return (
            f'<wsse:Security xmlns:wsse="{NS_WSSE}" xmlns:wsu="{NS_WSU}" s:mustUnderstand="1">'
            f"<wsse:UsernameToken><wsse:Username>{escape(self.target.username or '')}"
            f'</wsse:Username><wsse:Password Type="{_DIGEST}">'
            f"{base64.b64encode(digest).decode()}</wsse:Password>"
            f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
            f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
        )

    def _local(self, xaddr: str) -> str:
        """`xaddr`'s path and query at the target's scheme, host and port."""
        advertised = urlsplit(split_userinfo(xaddr.strip())[0])
        ours = urlsplit(self.device_url)
        return urlunsplit(
            ours._replace(path=advertised.path or DEVICE_PATH, query=advertised.query)
        )

    @staticmethod
    async def _until(stop: asyncio.Event, work: Awaitable[T]) -> T:
        """`work`'s result, or `_Stopped` (with `work` cancelled) once `stop` is set."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((task, stopper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not task.done():
                task.cancel()
                await asyncio.wait((task,))  # let it unwind; its outcome is read below
        if task.cancelled():
            raise _Stopped
        return task.result()


def _reference_headers(parameters: Element | None) -> str:
    """Each ReferenceParameters child as a header block marked IsReferenceParameter.

    ElementTree writes every block with its own namespace declarations, so each stands alone
    in our envelope whatever prefixes the camera used.
    """
    if parameters is None:
        return ""
    blocks = []
    for parameter in parameters:
        block = deepcopy(parameter)
        block.set(f"{{{NS_WSA}}}IsReferenceParameter", "true")
        block.tail = None  # the camera's indentation is not part of the parameter
        blocks.append(tostring(block, encoding="unicode"))
    return "".join(blocks)


def _duration(seconds: float) -> str:
    """An xs:duration: PT10S, PT1.5S."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"PT{text}S"


def _text(element: Element | None) -> str | None:
    text = element.text if element is not None else None
    return text.strip() if text and text.strip() else None


def _xs_datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _camera_utc(xml: bytes) -> datetime | None:
    """The UTCDateTime of a GetSystemDateAndTimeResponse; None when absent or impossible."""
    try:
        body = parse_envelope(xml).body
    except AdapterError:
        return None
    utc = next((e for e in body.iter() if local_name(e.tag) == "UTCDateTime"), None)
    date, clock = child(utc, "Date"), child(utc, "Time")
    fields = [child(date, n) for n in ("Year", "Month", "Day")]
    fields += [child(clock, n) for n in ("Hour", "Minute", "Second")]
    try:
        year, month, day, hour, minute, second = (int(_text(f) or "") for f in fields)
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None  # no UTC time, or an impossible one: the offset stays unknown
