"""Health tasks: beat runs `sweep` every few seconds; it claims the cameras due a check and
hands them out in batches to `check_cameras`, which checks a batch concurrently.

`run_sweep` and `run_checks` take everything as arguments (sessions, credential box, adapters),
so tests and the bench call them directly; the Celery tasks only build that from settings.

Delivery is at least once: a redelivered batch checks its cameras again, which adds one more
observation (harmless: the grace period wants several anyway).
"""

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from adapters.registry import AdapterRegistry
from hub.db import make_engine, make_sessionmaker, session_scope
from hub.health import service
from hub.health.announce import HealthAnnouncer
from hub.health.checks import FramePlan, Outcome, Plan, run_check, utc_now
from hub.health.rules import Grace
from hub.keys import credential_key
from hub.registry.secrets import CredentialBox
from hub.settings import Settings, get_settings
from hub.worker import HEALTH_QUEUE, celery_app
from schemas.health import HealthChange

log = logging.getLogger(__name__)

ChangeSink = Callable[[list[HealthChange]], None]


def _no_sink(changes: list[HealthChange]) -> None:
    return None


@dataclass(frozen=True)
class HealthContext:
    sessions: sessionmaker[Session]
    box: CredentialBox
    adapters: AdapterRegistry
    grace: Grace = field(default_factory=Grace)
    frames: FramePlan = field(default_factory=FramePlan)
    batch: int = 25
    interval_s: int = 60
    claim_limit: int = 5000
    on_changes: ChangeSink = field(default=_no_sink)  # where confirmed changes are announced
    clock: Callable[[], datetime] = field(default=utc_now)  # the time checks are stamped with


def run_sweep(ctx: HealthContext, now: datetime | None = None) -> list[list[uuid.UUID]]:
    """Claim the cameras due now; their ids in batches of `ctx.batch`."""
    with session_scope(ctx.sessions) as session:
        ids = service.claim_due(session, now or ctx.clock(), ctx.claim_limit, ctx.interval_s)
    return list(_chunks(ids, ctx.batch))


def _chunks(ids: list[uuid.UUID], size: int) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def run_checks(ids: list[uuid.UUID], ctx: HealthContext) -> list[Outcome]:
    """Check the cameras concurrently and record the outcomes in one transaction.

    The plans are read in a short transaction of their own, so no database connection waits
    while cameras answer (or do not).
    """
    with session_scope(ctx.sessions) as session:
        plans = service.load_plans(session, ids, ctx.box, ctx.frames.timeout_s)
    outcomes = asyncio.run(_check_all(plans, ctx))
    with session_scope(ctx.sessions) as session:
        events = [service.record(session, outcome, ctx.grace) for outcome in outcomes]
        changes = [service.change_out(event) for event in events if event is not None]
    if changes:
        ctx.on_changes(changes)
    return outcomes


async def _check_all(plans: list[Plan], ctx: HealthContext) -> list[Outcome]:
    # Adapters decode in threads (asyncio.to_thread): one per check in flight, or the default
    # pool (CPUs + 4) would let only a handful of a batch's checks run at once.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max(len(plans), 1)))
    return list(
        await asyncio.gather(*(run_check(p, ctx.adapters, ctx.frames, ctx.clock) for p in plans))
    )


def context_from(settings: Settings, on_changes: ChangeSink = _no_sink) -> HealthContext:
    if not settings.database_url:
        raise RuntimeError("the worker needs C4HUB_DATABASE_URL")
    return HealthContext(
        sessions=make_sessionmaker(make_engine(settings.database_url)),
        box=CredentialBox(credential_key(settings)),
        adapters=AdapterRegistry.installed(),
        grace=Grace(settings.health_grace_checks, settings.health_grace_s),
        frames=FramePlan(timeout_s=settings.health_timeout_s),
        batch=settings.health_batch,
        interval_s=settings.health_interval_s,
        on_changes=on_changes,
    )


def _log_changes(changes: list[HealthChange]) -> None:
    for change in changes:
        log.warning(
            "camera %s: %s -> %s (%s)",
            change.camera_id,
            change.previous,
            change.status,
            ", ".join(change.findings) or "sound",
        )


@lru_cache(maxsize=1)
def worker_context() -> HealthContext:
    """Built once per worker process, on its first task (after the fork)."""
    settings = get_settings()
    announce = HealthAnnouncer(settings.broker_url)

    def on_changes(changes: list[HealthChange]) -> None:
        _log_changes(changes)
        announce(changes)

    return context_from(settings, on_changes)


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="hub.health.tasks.sweep",
    autoretry_for=(OperationalError,),
    max_retries=2,
    retry_backoff=2,
)
def sweep() -> int:
    """Claim the cameras due a check and queue them in batches; the number claimed."""
    batches = run_sweep(worker_context())
    for batch in batches:
        check_cameras.apply_async(args=[[str(i) for i in batch]], queue=HEALTH_QUEUE)
    return sum(len(batch) for batch in batches)


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="hub.health.tasks.check_cameras",
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def check_cameras(camera_ids: list[str]) -> int:
    """Check a batch of cameras; the number of outcomes recorded."""
    outcomes = run_checks([uuid.UUID(i) for i in camera_ids], worker_context())
    return len(outcomes)
