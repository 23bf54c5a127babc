"""Federation Celery tasks, on the queue `federation` (dead letters: `federation.dead`).

- `deliver_peer(peer_id)`: send what is due to one peer (federation.delivery). Sent by the
  kicker right after a transaction that emitted events commits, and by `sweep`.
- `sweep` (beat, every C4HUB_FEDERATION_SWEEP_S): a deliver_peer for every peer with
  deliveries due, so retries happen and nothing waits on a lost kick.
- `purge_nonces` (hourly) and `refresh_peers` (every 10 minutes: the peers' published keys).

Tasks are idempotent: a redelivered deliver_peer finds the events already delivered (or the
peer locked by the first one) and sends nothing twice; the receiver dedups on source + id.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from celery.signals import worker_init
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from federation.backoff import Backoff, Breaker
from federation.client import PeerClient
from federation.delivery import Clients, DeliveryContext, DeliveryPolicy, deliver_peer
from federation.identity import SigningKey
from federation.models import Delivery, DeliveryState, Peer
from federation.outbox import install_kicker
from federation.peers import refresh_all
from federation.trust import purge_nonces as purge_nonce_rows
from hub.db import make_engine, make_sessionmaker, session_scope
from hub.settings import Settings, get_settings
from hub.worker import FEDERATION_QUEUE, PUBLISH_RETRY, celery_app

log = logging.getLogger("c4hub.federation")


def context_from(settings: Settings) -> DeliveryContext:
    if not settings.database_url:
        raise RuntimeError("the worker needs C4HUB_DATABASE_URL")

    def make_client(key: SigningKey) -> PeerClient:
        return PeerClient(
            key,
            timeout_s=settings.federation_timeout_s,
            lifetime=timedelta(seconds=settings.federation_signature_lifetime_s),
            skew=timedelta(seconds=settings.federation_skew_s),
        )

    return DeliveryContext(
        sessions=make_sessionmaker(make_engine(settings.database_url)),
        clients=Clients(settings.data_dir, make_client),
        policy=policy_from(settings),
    )


def policy_from(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        batch=settings.federation_batch,
        max_attempts=settings.federation_max_attempts,
        backoff=Backoff(cap_s=settings.federation_backoff_cap_s),
        breaker=Breaker(
            failures=settings.federation_breaker_failures,
            cooldown_s=settings.federation_breaker_cooldown_s,
        ),
    )


@lru_cache(maxsize=1)
def worker_context() -> DeliveryContext:
    """Built once per worker process, on its first task (after the fork)."""
    return context_from(get_settings())


def due_peers(session: Session, now: datetime) -> list[uuid.UUID]:
    """Peers with a delivery due whose circuit is not open."""
    due = (
        select(Delivery.peer_id)
        .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= now)
        .distinct()
    )
    return sorted(
        session.scalars(
            select(Peer.id).where(
                Peer.id.in_(due),
                (Peer.circuit_open_until.is_(None)) | (Peer.circuit_open_until <= now),
            )
        )
    )


def kick(peer_ids: Iterable[uuid.UUID]) -> None:
    """Ask for delivery to these peers now. Called after a commit, so it never fails the
    caller: a broker that is down leaves the work to the next sweep."""
    for peer_id in peer_ids:
        try:
            deliver.apply_async(
                args=[str(peer_id)], queue=FEDERATION_QUEUE, retry_policy=PUBLISH_RETRY
            )
        except (BrokerError, OSError) as exc:
            log.warning("could not queue delivery to peer %s (the sweep will): %s", peer_id, exc)


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="federation.tasks.deliver_peer",
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=2,
    retry_jitter=True,
)
def deliver(peer_id: str) -> int:
    """Deliver what is due to one peer; the number of events delivered."""
    report = deliver_peer(worker_context(), uuid.UUID(peer_id))
    return report.delivered


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="federation.tasks.sweep", autoretry_for=(OperationalError,), max_retries=2
)
def sweep() -> int:
    """Queue a delivery for every peer with something due; how many peers."""
    with session_scope(worker_context().sessions) as session:
        peers = due_peers(session, datetime.now(UTC))
    kick(peers)
    return len(peers)


@celery_app.task(name="federation.tasks.purge_nonces")  # type: ignore[untyped-decorator]
def purge_nonces() -> int:
    """Forget replay-cache nonces whose signatures have expired; how many."""
    with session_scope(worker_context().sessions) as session:
        return purge_nonce_rows(session, datetime.now(UTC))


@celery_app.task(name="federation.tasks.refresh_peers")  # type: ignore[untyped-decorator]
def refresh_peers() -> int:
    """Read every peer's /.well-known/c4hub again (new and retired keys); how many failed."""
    with session_scope(worker_context().sessions) as session:
        failures = refresh_all(session, get_settings())
    for peer_id, why in failures.items():
        log.warning("refreshing peer %s failed: %s", peer_id, why)
    return len(failures)


@worker_init.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _kick_after_commits(**_: object) -> None:
    """In a worker, every session may emit events (alerts from plate reads, hotlist changes):
    kick their deliveries after commit, as the API does, instead of waiting for the sweep.
    Listening on the Session class covers every domain's sessionmaker; prefork children
    inherit it. The inbox handlers and activation hooks are wired here too: a worker applies
    agreements and hotlists it delivers backfills for."""
    from hub.wiring import install_federation  # at worker start: no import cycle with hub

    install_federation()
    install_kicker(Session, kick)
