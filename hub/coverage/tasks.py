"""The coverage worker: recompute every cached coverage the registry has moved on from.

Beat sends `refresh_stale` every C4HUB_COVERAGE_REFRESH_EVERY_S; it finds the stale entries
and recomputes each in its own transaction, so one failure leaves the others done and its own
entry as it was (stale, and recomputed by the next request or the next run). Idempotent: an
entry already current is skipped, so a redelivered message does nothing twice.
"""

import logging
from functools import lru_cache

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hub.coverage import service
from hub.db import make_engine, make_sessionmaker, session_scope
from hub.settings import get_settings
from hub.worker import celery_app

log = logging.getLogger(__name__)


def refresh_all(sessions: sessionmaker[Session]) -> int:
    """Recompute the stale cached coverages; how many were recomputed."""
    with session_scope(sessions) as session:
        keys = service.stale_keys(session)
    done = 0
    for key in keys:
        with session_scope(sessions) as session:
            done += service.refresh(session, key)
    if done:
        log.info("recomputed %d stale coverage(s)", done)
    return done


@lru_cache(maxsize=1)
def worker_sessions() -> sessionmaker[Session]:
    """Built once per worker process, on its first task (after the fork)."""
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError("the coverage worker needs C4HUB_DATABASE_URL")
    return make_sessionmaker(make_engine(settings.database_url))


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="hub.coverage.tasks.refresh_stale",
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=2,
    retry_backoff_max=60,
)
def refresh_stale() -> int:
    return refresh_all(worker_sessions())
