"""Publish stored events to RabbitMQ: topic exchange "events", routing key camera.<id>.<kind>.

The table is the outbox: the intake stores an event first, the publisher sends the rows whose
`published_at` is null and then stamps them, in one transaction per pass. Consequences:

- A broker outage loses nothing: rows wait in PostgreSQL (not in memory) and go out once the
  broker is back, even after a restart. The outage is logged once, and its end once.
- Delivery is at least once: a pass that fails halfway rolls back its stamps, so messages it
  did send go out again. Consumers deduplicate by the event id (also the AMQP message_id).
- Publisher confirms: a message counts as sent only when RabbitMQ acknowledged it.
"""

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from typing import Any

# kombu ships py.typed but leaves these untyped and not re-exported.
from kombu import Connection, Exchange  # type: ignore[attr-defined]
from sqlalchemy.orm import Session, sessionmaker

from hub.db import session_scope
from hub.events import service

log = logging.getLogger(__name__)

EXCHANGE = "events"


def routing_key(camera_id: object, kind: str) -> str:
    return f"camera.{camera_id}.{kind}"


def events_exchange() -> Exchange:
    return Exchange(EXCHANGE, type="topic", durable=True)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class PublisherSettings:
    batch: int = 500  # rows per pass (one transaction)
    timeout_s: float = 5.0  # connect, publish and confirm, each
    retry_initial_s: float = 1.0
    retry_max_s: float = 30.0
    poll_s: float = 5.0  # look for unpublished rows this often even when not woken


class EventPublisher:
    """Owns one AMQP connection, used from one thread at a time (`asyncio.to_thread`)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        broker_url: str,
        settings: PublisherSettings | None = None,
    ) -> None:
        self.sessions = sessions
        self.broker_url = broker_url
        self.settings = settings or PublisherSettings()
        self.exchange: Any = events_exchange()  # Any: kombu's methods are untyped
        # Any: kombu's Connection and Producer methods are untyped.
        self._connection: Any = None
        self._producer: Any = None

    def publish_pending(self) -> int:
        """Send one batch of unpublished events and stamp them; how many. Raises on failure.

        A connection that died while idle (broker restart) is replaced once before failing.
        """
        try:
            return self._pass()
        except Exception:
            self.close()
            return self._pass()

    def _pass(self) -> int:
        producer = self._ensure_producer()
        timeout = self.settings.timeout_s
        with session_scope(self.sessions) as session:
            rows = service.claim_unpublished(session, self.settings.batch)
            for row in rows:
                event = service.event_out(row)
                producer.publish(
                    event.model_dump_json(),
                    exchange=self.exchange,
                    routing_key=routing_key(row.camera_id, row.kind.value),
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,  # persistent
                    message_id=str(row.id),
                    retry=False,
                    timeout=timeout,
                    confirm_timeout=timeout,
                )
            service.mark_published(session, [row.id for row in rows])
        return len(rows)

    def _ensure_producer(self) -> Any:
        if self._producer is None:
            connection: Any = Connection(  # type: ignore[no-untyped-call]
                self.broker_url,
                connect_timeout=self.settings.timeout_s,
                transport_options={"confirm_publish": True},
            )
            # One attempt: retries are `run`'s, with its backoff (kombu's own would sleep 2 s).
            connection.ensure_connection(
                max_retries=0, interval_start=0, interval_step=0, timeout=self.settings.timeout_s
            )
            producer = connection.Producer()
            self.exchange(producer.channel).declare()
            self._connection, self._producer = connection, producer
        return self._producer

    def close(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):  # closing a dead connection may fail anyhow
                connection.release()

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Publish whenever woken (new events stored) or every poll_s, until `stop` is set.

        Failures (broker or database down) are retried with a capped, jittered backoff; the
        first is logged as an outage and recovery once, so a long outage logs two lines.
        """
        failures = 0
        while not stop.is_set():
            wake.clear()
            try:
                while await asyncio.to_thread(self.publish_pending) == self.settings.batch:
                    pass  # more waiting: keep going
            except Exception as exc:  # any failure of a pass leaves its rows for the next
                if failures == 0:
                    log.warning(
                        "cannot publish events (%s: %s); they are kept and sent when it is back",
                        type(exc).__name__,
                        _first_line(exc),
                    )
                failures += 1
                delay = min(
                    self.settings.retry_max_s,
                    self.settings.retry_initial_s * 2 ** min(failures - 1, 16),
                )
                await _wait(stop, delay * random.uniform(0.5, 1.0))  # jitter, not crypto
                continue
            if failures:
                log.warning("publishing events again after %d failed attempts", failures)
                failures = 0
            await _wait_any(stop, wake, self.settings.poll_s)
        await asyncio.to_thread(self.close)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
