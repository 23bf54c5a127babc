"""`c4hub worker`: run a Celery worker for the node's task queues."""

from typing import Annotated

import typer


def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (probes run one at a time each)")
    ] = 2,
    loglevel: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run a worker that takes camera probes from the `probe` queue on C4HUB_BROKER_URL.

    It writes results into C4HUB_DATABASE_URL and opens camera credentials with the node's
    key (C4HUB_SECRET_KEY or C4HUB_DATA_DIR/secret.key), so give it the API's settings.
    Messages it gives up on go to the queue `probe.dead`.

    Example:
      C4HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/c4hub c4hub worker
    """
    from hub.cli import require_database_url
    from hub.settings import get_settings
    from hub.worker import PROBE_QUEUE, celery_app

    require_database_url(get_settings())
    celery_app.worker_main(
        [
            "worker",
            "--queues",
            PROBE_QUEUE,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            loglevel,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
