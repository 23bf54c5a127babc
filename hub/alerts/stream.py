"""The live alert stream: PostgreSQL NOTIFY (channel c4hub_alerts, raised by a trigger on every
new alert and state change, migration 0012) turned into Server-Sent Events.

Each stream holds its own LISTEN connection (psycopg's async connection, autocommit), so an
alert committed by any process of the node (API, workers, the federation inbox) reaches every
open stream; the alert itself is read through the app's sessions.
"""

import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable

import psycopg
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.alerts.models import Alert
from hub.alerts.service import alert_out
from schemas.hotlists import AlertOut

log = logging.getLogger(__name__)

CHANNEL = "c4hub_alerts"
KEEPALIVE_S = 15.0  # below the idle timeouts of common proxies (30-60 s)


def listen_url(engine: Engine) -> str:
    """The engine's database as a libpq URL (psycopg's own connection, not SQLAlchemy's)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _load(factory: Callable[[], Session], alert_id: uuid.UUID) -> AlertOut | None:
    with factory() as session:
        row = session.get(Alert, alert_id)
        return alert_out(row) if row is not None else None


def sse(alert: AlertOut) -> str:
    """One Server-Sent Event; the JSON has no newlines, so it is one `data:` line."""
    return f"event: alert\nid: {alert.id}\ndata: {alert.model_dump_json()}\n\n"


def _alert_id(payload: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(json.loads(payload)["id"]))
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring a malformed %s notification: %.100s", CHANNEL, payload)
        return None


async def alert_events(
    url: str, factory: Callable[[], Session], keepalive_s: float | None = None
) -> AsyncIterator[str]:
    """The stream's text: a first comment once listening (so a client knows nothing raised
    from then on is missed), an event per notification, a comment every `keepalive_s`.
    Ends when the client goes (the server cancels the generator; the connection closes)."""
    every = KEEPALIVE_S if keepalive_s is None else keepalive_s
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        yield ": listening\n\n"
        while True:
            # notifications arriving between two rounds wait in the connection's buffer
            async for note in conn.notifies(timeout=every):
                alert_id = _alert_id(note.payload)
                if alert_id is None:
                    continue
                alert = await run_in_threadpool(_load, factory, alert_id)
                if alert is not None:
                    yield sse(alert)
            yield ": keep-alive\n\n"
