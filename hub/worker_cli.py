"""`c4hub worker` and `c4hub beat`: the node's Celery worker and its scheduler."""

from pathlib import Path
from typing import Annotated

import typer


def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (each runs one task at a time)")
    ] = 2,
    queues: Annotated[
        str,
        typer.Option(
            help="Queues to take work from, comma-separated: probe, health, analytics, plates, "
            "federation (deliveries to peers), coverage (recomputing cached coverage); a machine "
            "can serve only some, e.g. a GPU box only analytics"
        ),
    ] = "probe,health,analytics,plates,federation,coverage",
    beat: Annotated[
        bool,
        typer.Option(
            "--beat/--no-beat", help="Also run the scheduler (one per node: the health sweep)"
        ),
    ] = False,
    loglevel: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run a worker for the node's queues: camera probes (`probe`), health checks (`health`),
    stream analysis (`analytics`), plate reading (`plates`), deliveries to peer nodes
    (`federation`) and coverage recomputation (`coverage`). Add workers on any machine that
    reaches the broker and the database to scale out.

    It writes results into C4HUB_DATABASE_URL and opens camera credentials with the node's
    key (C4HUB_SECRET_KEY or C4HUB_DATA_DIR/secret.key), so give it the API's settings.
    Messages it gives up on go to `<queue>.dead`. Run exactly one
    scheduler per node: `--beat` here, or `c4hub beat` on its own.

    Example:
      C4HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/c4hub c4hub worker --beat
    """
    from hub.cli import fail, require_database_url
    from hub.settings import get_settings
    from hub.worker import QUEUES, celery_app

    settings = get_settings()
    require_database_url(settings)
    known = {queue.name for queue in QUEUES if not queue.name.endswith(".dead")}
    chosen = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = sorted(set(chosen) - known)
    if not chosen or unknown:
        named = ", ".join(unknown) or "(none given)"
        fail(f"unknown queue {named}; use any of: {', '.join(sorted(known))}")
    argv = [
        "worker",
        "--queues",
        ",".join(chosen),
        "--concurrency",
        str(concurrency),
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        argv += ["--beat", "--schedule", str(_schedule_file(settings.data_dir))]
    celery_app.worker_main(argv)


def beat(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run the node's scheduler: the health sweep (every C4HUB_HEALTH_SWEEP_EVERY_S seconds),
    analytics segments, plate partitions, the federation sweep, nonce purge and peer refresh,
    and the coverage refresh, each to its queue, where workers pick them up. Run one per node."""
    from hub.settings import get_settings
    from hub.worker import celery_app

    schedule = _schedule_file(get_settings().data_dir)
    celery_app.start(["beat", "--loglevel", loglevel, "--schedule", str(schedule)])


def _schedule_file(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir / "celerybeat-schedule"
