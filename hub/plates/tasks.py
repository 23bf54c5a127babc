"""The plate store's daily task: partitions for the week ahead, expired days dropped."""

from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, make_sessionmaker, session_scope
from hub.plates.store import maintain
from hub.settings import get_settings
from hub.worker import celery_app


@lru_cache(maxsize=1)
def _sessions() -> sessionmaker[Session]:
    url = get_settings().database_url
    if not url:
        raise RuntimeError("the worker needs C4HUB_DATABASE_URL")
    return make_sessionmaker(make_engine(url))


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="hub.plates.tasks.maintain_partitions",
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=30,
)
def maintain_partitions() -> list[str]:
    """Create the days ahead and drop the days past retention; the partitions dropped."""
    with session_scope(_sessions()) as session:
        return maintain(session, datetime.now(UTC))
