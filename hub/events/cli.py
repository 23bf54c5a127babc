"""`c4hub events …`: take in the cameras' own analytics, and watch them arrive."""

import asyncio
import json
import logging
import signal
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from hub.events.intake import Intake

events_app = typer.Typer(help="Camera events (ONVIF analytics).", no_args_is_help=True)


@events_app.command("run")
def run(
    reload_s: Annotated[
        float | None,
        typer.Option(
            min=0.1, help="Seconds between re-reads of the cameras [C4HUB_EVENTS_RELOAD_S]"
        ),
    ] = None,
) -> None:
    """Subscribe to the events of every ONVIF camera with credentials, store and publish them.

    Events are stored in C4HUB_DATABASE_URL and published to the topic exchange "events" on
    C4HUB_BROKER_URL (routing key camera.<id>.<kind>); while the broker is down they wait in
    the database. Stops on SIGTERM or Ctrl-C after unsubscribing every camera.

    Example:
      C4HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/c4hub c4hub events run
    """
    from hub.cli import database_errors, require_database_url
    from hub.db import make_engine, make_sessionmaker
    from hub.events.intake import Intake, IntakeContext
    from hub.events.publisher import EventPublisher
    from hub.events.writer import WriterSettings
    from hub.keys import credential_key
    from hub.registry.secrets import CredentialBox
    from hub.settings import get_settings

    settings = get_settings()
    engine = make_engine(require_database_url(settings))
    sessions = make_sessionmaker(engine)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    ctx = IntakeContext(
        sessions=sessions,
        box=CredentialBox(credential_key(settings)),
        publisher=EventPublisher(sessions, settings.broker_url),
        reload_s=reload_s or settings.events_reload_s,
        call_timeout_s=settings.events_timeout_s,
        writer=WriterSettings(batch_size=settings.events_batch_size),
    )
    with database_errors():
        with sessions() as session:
            session.connection()  # fail now, with the fix, if the database is unreachable
        asyncio.run(_run(Intake(ctx)))
    engine.dispose()


async def _run(intake: "Intake") -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await intake.run(stop)


@events_app.command("tail")
def tail(
    camera_id: Annotated[uuid.UUID, typer.Argument(help="The camera's id")],
    count: Annotated[int | None, typer.Option(min=1, help="Stop after this many events")] = None,
) -> None:
    """Print a camera's events as they are published, one JSON object a line.

    A temporary queue bound to the exchange "events" with camera.<id>.# ; Ctrl-C stops.

    Example:
      c4hub events tail 7d0f3c1e-0000-4000-8000-000000000000
    """
    from kombu import Connection, Queue  # type: ignore[attr-defined]  # kombu: untyped
    from kombu.exceptions import OperationalError

    from hub.cli import fail
    from hub.events.publisher import events_exchange
    from hub.settings import get_settings

    queue: Any = Queue(  # type: ignore[no-untyped-call]  # kombu: untyped
        exchange=events_exchange(),
        routing_key=f"camera.{camera_id}.#",
        exclusive=True,
        auto_delete=True,
    )
    seen = 0
    conn: Any = Connection(get_settings().broker_url, connect_timeout=5)  # type: ignore[no-untyped-call]
    try:
        with conn:
            conn.connect()
            with conn.SimpleQueue(queue) as simple:
                while count is None or seen < count:
                    message = simple.get(block=True)
                    typer.echo(json.dumps(message.payload, separators=(",", ":")))
                    message.ack()
                    seen += 1
    except KeyboardInterrupt:
        return
    except (OSError, OperationalError) as exc:
        fail(f"cannot reach the broker ({exc}); check C4HUB_BROKER_URL and that RabbitMQ runs")
