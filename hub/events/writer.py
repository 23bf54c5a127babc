"""Batch events from every subscription into few INSERTs, and wake the publisher after each.

One queue for all cameras: a busy node writes one statement per batch, not one per event. The
queue is bounded, so a database outage pushes back on the subscriptions (their sinks wait)
instead of growing memory; a failed batch is kept and retried with a capped backoff.
"""

import asyncio
import logging
import random
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from hub.db import session_scope
from hub.events import service
from schemas.events import NormalizedEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriterSettings:
    batch_size: int = 200
    batch_wait_s: float = 0.5  # how long the first event of a batch waits for company
    max_pending: int = 10_000
    retry_initial_s: float = 0.5
    retry_max_s: float = 30.0
    attempts_on_close: int = 3  # a batch still failing at shutdown is given up after these


class EventWriter:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        wake: asyncio.Event,
        settings: WriterSettings | None = None,
    ) -> None:
        self.sessions = sessions
        self.wake = wake
        self.settings = settings or WriterSettings()
        self.stored = 0  # events inserted (not counting duplicates), for logs and tests
        self._queue: asyncio.Queue[NormalizedEvent | None] = asyncio.Queue(
            self.settings.max_pending
        )
        self._closing = False

    async def put(self, event: NormalizedEvent) -> None:
        """Queue an event whose camera_id is filled in; waits while the queue is full."""
        if event.camera_id is None:
            raise ValueError("the writer needs events whose camera_id is filled in")
        await self._queue.put(event)

    async def close(self) -> None:
        """Ask `run` to write what is queued and return (retrying failures only briefly)."""
        self._closing = True
        await self._queue.put(None)

    async def run(self) -> None:
        while True:
            batch, closing = await self._next_batch()
            if batch:
                await self._write(batch)
            if closing:
                return

    async def _next_batch(self) -> tuple[list[NormalizedEvent], bool]:
        first = await self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.batch_wait_s
        while len(batch) < self.settings.batch_size:
            try:
                event = await asyncio.wait_for(self._queue.get(), deadline - loop.time())
            except TimeoutError:
                break
            if event is None:
                return batch, True
            batch.append(event)
        return batch, False

    async def _write(self, batch: list[NormalizedEvent]) -> None:
        failures = 0
        while True:
            try:
                new = await asyncio.to_thread(self._store, batch)
            except Exception as exc:  # the database is down or refused: keep the batch
                failures += 1
                if failures == 1 or failures == self.settings.attempts_on_close:
                    log.warning(
                        "cannot store %d events (%s); retrying", len(batch), type(exc).__name__
                    )
                if self._closing and failures >= self.settings.attempts_on_close:
                    log.error("gave up storing %d events at shutdown", len(batch))
                    return
                delay = min(self.settings.retry_max_s, self.settings.retry_initial_s * 2**failures)
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # jitter, not crypto
                continue
            self.stored += new
            if failures:
                log.warning("stored %d events after %d failed attempts", len(batch), failures)
            if new:
                self.wake.set()
            return

    def _store(self, batch: list[NormalizedEvent]) -> int:
        with session_scope(self.sessions) as session:
            return len(service.store_events(session, batch))
