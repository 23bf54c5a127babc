"""The long-running consumer of the cameras' own analytics (`c4hub events run`).

Every `reload_s` it reads which cameras should be subscribed (adapter onvif, not
decommissioned, with a stream or device address and credentials) and reconciles: a new camera
gets a PullPoint subscription (one asyncio task), a removed or decommissioned one is stopped
(which unsubscribes), and one whose address or credentials changed is restarted. Events go
through the hub's sink (camera_id filled in) to the batching writer, then the publisher.
A subscription never ends on camera errors (it re-subscribes itself); one that ends on a bug
is logged and started again at the next reload.
"""

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import EventSink, Target
from adapters.onvif.pullpoint import PullPointSettings, PullPointSubscription
from hub.enrolment.rules import Use
from hub.enrolment.service import permits_clause
from hub.events.publisher import EventPublisher
from hub.events.writer import EventWriter, WriterSettings
from hub.registry.models import Camera
from hub.registry.secrets import CredentialBox
from schemas.enums import AdapterKind, CameraStatus
from schemas.events import NormalizedEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Feed:
    """What a subscription is made from; a change of any field restarts it."""

    camera_id: uuid.UUID
    address: str
    sealed: bytes = field(repr=False)


@dataclass(frozen=True)
class IntakeContext:
    sessions: sessionmaker[Session]
    box: CredentialBox
    publisher: EventPublisher | None  # None: store only (tests, or a node without a broker)
    reload_s: float = 30.0
    call_timeout_s: float = 10.0  # per camera call
    pullpoint: PullPointSettings = field(default_factory=PullPointSettings)
    writer: WriterSettings = field(default_factory=WriterSettings)


def load_feeds(session: Session) -> dict[uuid.UUID, Feed]:
    """The cameras whose events the node should take in: ONVIF cameras with credentials, at
    their device service (`device_uri`; cameras registered before it existed: `stream_uri`),
    and, if enrolled by a business, with consent to be watched (an approved shared tier)."""
    address = func.coalesce(Camera.device_uri, Camera.stream_uri)
    stmt = select(Camera.id, address, Camera.credentials_sealed).where(
        Camera.adapter == AdapterKind.ONVIF,
        Camera.status != CameraStatus.DECOMMISSIONED,
        address.is_not(None),
        Camera.credentials_sealed.is_not(None),
        permits_clause(Use.HEALTH_REACHABILITY),
    )
    return {
        camera_id: Feed(camera_id, address, sealed)
        for camera_id, address, sealed in session.execute(stmt)
        if address and sealed
    }


def feed_target(feed: Feed, box: CredentialBox, timeout_s: float) -> Target:
    """The device service to subscribe at: the address itself when it is the http(s) device
    service URL, else the default device service on the stream's host (as probes do).
    Raises ValueError with a message that never echoes the address or credentials."""
    creds = box.open(feed.sealed)
    if urlsplit(feed.address).scheme in ("http", "https"):
        return Target.from_uri(
            feed.address, username=creds.username, password=creds.password, timeout_s=timeout_s
        )
    host = Target.from_uri(feed.address).host
    return Target(host=host, username=creds.username, password=creds.password, timeout_s=timeout_s)


@dataclass
class _Running:
    feed: Feed
    stop: asyncio.Event
    task: asyncio.Task[None]


class Intake:
    def __init__(self, ctx: IntakeContext) -> None:
        self.ctx = ctx
        self.wake = asyncio.Event()  # set when new events are stored: the publisher runs
        self.writer = EventWriter(ctx.sessions, self.wake, ctx.writer)
        self.running: dict[uuid.UUID, _Running] = {}
        self._refused: set[Feed] = set()  # feeds whose target could not be built, logged once

    async def run(self, stop: asyncio.Event) -> None:
        """Take events in until `stop` is set; then unsubscribe all, write and publish."""
        writing = asyncio.create_task(self.writer.run())
        publisher_stop = asyncio.Event()
        publishing = (
            asyncio.create_task(self.ctx.publisher.run(publisher_stop, self.wake))
            if self.ctx.publisher
            else None
        )
        try:
            while not stop.is_set():
                await self.reload()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.ctx.reload_s)
        finally:
            await self._stop(list(self.running))
            await self.writer.close()
            await writing
            publisher_stop.set()
            if publishing is not None:
                await publishing
                await self._last_publish()
        log.info("events intake stopped; %d events stored", self.writer.stored)

    async def reload(self) -> None:
        """Reconcile the running subscriptions with the cameras that should have one."""
        try:
            wanted = await asyncio.to_thread(self._load)
        except Exception as exc:  # the database is down: keep what runs, try next time
            log.warning("cannot read the cameras to subscribe (%s)", type(exc).__name__)
            return
        for camera_id, running in list(self.running.items()):
            if running.task.done():
                self._forget_finished(camera_id, running, restart=True)
        leaving = [cid for cid, r in self.running.items() if wanted.get(cid) != r.feed]
        await self._stop(leaving)
        for camera_id, feed in wanted.items():
            if camera_id not in self.running:
                self._start(feed)

    def _load(self) -> dict[uuid.UUID, Feed]:
        with self.ctx.sessions() as session:
            return load_feeds(session)

    def _start(self, feed: Feed) -> None:
        try:
            target = feed_target(feed, self.ctx.box, self.ctx.call_timeout_s)
            subscription = PullPointSubscription(target, settings=self.ctx.pullpoint)
        except ValueError as exc:
            if feed not in self._refused:
                self._refused.add(feed)
                log.warning("camera %s is not subscribed: %s", feed.camera_id, exc)
            return
        self._refused.discard(feed)
        stop = asyncio.Event()
        task = asyncio.create_task(
            subscription.run(self._sink(feed.camera_id), stop), name=f"events-{feed.camera_id}"
        )
        self.running[feed.camera_id] = _Running(feed, stop, task)
        log.info("taking in the events of camera %s", feed.camera_id)

    def _sink(self, camera_id: uuid.UUID) -> EventSink:
        async def sink(event: NormalizedEvent) -> None:
            await self.writer.put(event.model_copy(update={"camera_id": camera_id}))

        return sink

    def _forget_finished(self, camera_id: uuid.UUID, running: _Running, restart: bool) -> None:
        self.running.pop(camera_id, None)
        exc = None if running.task.cancelled() else running.task.exception()
        log.error(
            "the events subscription of camera %s ended (%s)%s",
            camera_id,
            type(exc).__name__ if exc else "cancelled",
            "; starting it again" if restart else "",
        )

    async def _stop(self, camera_ids: list[uuid.UUID]) -> None:
        """Stop these subscriptions together; each unsubscribes, within its call timeout."""
        stopping = [self.running.pop(cid) for cid in camera_ids]
        for running in stopping:
            running.stop.set()
        tasks = [running.task for running in stopping]
        if tasks:
            await asyncio.wait(tasks, timeout=self.ctx.call_timeout_s + 5)
            for running in stopping:
                if not running.task.done():
                    running.task.cancel()  # its Unsubscribe hangs; the camera lets it lapse
                elif not running.task.cancelled() and running.task.exception():
                    self._forget_finished(running.feed.camera_id, running, restart=False)
                log.info("stopped taking in the events of camera %s", running.feed.camera_id)

    async def _last_publish(self) -> None:
        """One last pass so events stored at shutdown do not wait for the next start."""
        publisher = self.ctx.publisher
        assert publisher is not None
        try:
            await asyncio.to_thread(publisher.publish_pending)
        except Exception as exc:  # they stay in the outbox for the next start
            log.warning("events left unpublished at shutdown (%s)", type(exc).__name__)
        finally:
            await asyncio.to_thread(publisher.close)
