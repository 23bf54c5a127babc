"""The node's Celery app: tasks travel over RabbitMQ; their state lives in the node's database.

Queues are declared here, through kombu, so the API (which only sends) and the workers agree:

- `probe`: camera probes. A message a task gives up on (its bounded retries spent, or an
  unexpected error) is rejected without requeue and RabbitMQ moves it, through the exchange
  `probe.dead`, to the queue `probe.dead`, where an operator sees it
  (`rabbitmqctl list_queues name messages`) and can move it back (shovel) or drop it.
- `analytics`: stream segments analysed per camera (detect, track, rules), sent by beat every
  C4HUB_ANALYTICS_SEGMENT_S; `plates`: one message per vehicle that left a picture (plate
  reading, hotlists, alerts). Each dead-letters to `<queue>.dead`.
- `federation`: deliveries to peer nodes (`federation.tasks.deliver_peer`, kicked after each
  commit that emitted events and by the beat sweep every C4HUB_FEDERATION_SWEEP_S), the
  replay-cache purge and the peers' key refresh; dead letters to `federation.dead`.
- `coverage`: recomputation of cached coverages the registry moved on from
  (`hub.coverage.tasks.refresh_stale`, sent by beat every C4HUB_COVERAGE_REFRESH_EVERY_S);
  dead letters to `coverage.dead`.
- `health`: the health sweep (`hub.health.tasks.sweep`, sent by beat every
  C4HUB_HEALTH_SWEEP_EVERY_S) and the camera checks it hands out; dead letters to `health.dead`.

Delivery is at least once: `acks_late` acknowledges a message only after its task ran, so a
worker that dies mid-task has it redelivered; tasks are therefore idempotent.
"""

from celery import Celery

# kombu ships py.typed but leaves these untyped and not re-exported.
from kombu import Exchange, Queue  # type: ignore[attr-defined]

from hub.settings import Settings, get_settings

PROBE_QUEUE = "probe"
HEALTH_QUEUE = "health"
ANALYTICS_QUEUE = "analytics"
PLATES_QUEUE = "plates"
COVERAGE_QUEUE = "coverage"
FEDERATION_QUEUE = "federation"
DEAD_LETTER = "probe.dead"


# How the API publishes a task: a connection the broker dropped (it restarted) is replaced at
# once, a broker that is down answers within a second, and the request says so (503) instead
# of waiting.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def _queues(name: str) -> tuple[Queue, Queue]:
    """The work queue `name` and its dead-letter queue `name.dead`."""
    dead = f"{name}.dead"
    work_exchange = Exchange(name, type="direct", durable=True)  # type: ignore[no-untyped-call]
    dead_exchange = Exchange(dead, type="direct", durable=True)  # type: ignore[no-untyped-call]
    work = Queue(  # type: ignore[no-untyped-call]
        name,
        work_exchange,
        routing_key=name,
        durable=True,
        queue_arguments={"x-dead-letter-exchange": dead, "x-dead-letter-routing-key": name},
    )
    return work, Queue(dead, dead_exchange, routing_key=name, durable=True)  # type: ignore[no-untyped-call]


probe_queue, dead_queue = _queues(PROBE_QUEUE)
health_queue, health_dead_queue = _queues(HEALTH_QUEUE)
analytics_queue, analytics_dead_queue = _queues(ANALYTICS_QUEUE)
plates_queue, plates_dead_queue = _queues(PLATES_QUEUE)
coverage_queue, coverage_dead_queue = _queues(COVERAGE_QUEUE)
federation_queue, federation_dead_queue = _queues(FEDERATION_QUEUE)
QUEUES = [
    probe_queue,
    dead_queue,
    health_queue,
    health_dead_queue,
    analytics_queue,
    analytics_dead_queue,
    plates_queue,
    plates_dead_queue,
    federation_queue,
    federation_dead_queue,
    coverage_queue,
    coverage_dead_queue,
]


def make_celery(settings: Settings) -> Celery:
    tasks = [
        "hub.registry.tasks",
        "hub.health.tasks",
        "hub.analytics.tasks",
        "hub.plates.tasks",
        "hub.coverage.tasks",
        "federation.tasks",
    ]
    app = Celery("c4hub", broker=settings.broker_url, include=tasks)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,  # job state is in the database (probe_jobs), not a backend
        task_acks_late=True,
        # A failed task's message is rejected (not acked), so it dead-letters to probe.dead.
        task_acks_on_failure_or_timeout=False,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=QUEUES,
        task_default_queue=PROBE_QUEUE,
        task_routes={
            "hub.registry.tasks.probe_camera": {"queue": PROBE_QUEUE},
            "hub.health.tasks.*": {"queue": HEALTH_QUEUE},
            "hub.analytics.tasks.read_vehicle": {"queue": PLATES_QUEUE},
            "hub.plates.tasks.*": {"queue": PLATES_QUEUE},
            "hub.analytics.tasks.*": {"queue": ANALYTICS_QUEUE},
            "hub.coverage.tasks.*": {"queue": COVERAGE_QUEUE},
            "federation.tasks.*": {"queue": FEDERATION_QUEUE},
        },
        beat_schedule={
            "coverage-refresh": {
                "task": "hub.coverage.tasks.refresh_stale",
                "schedule": settings.coverage_refresh_every_s,
                "options": {"queue": COVERAGE_QUEUE, "expires": settings.coverage_refresh_every_s},
            },
            "health-sweep": {
                "task": "hub.health.tasks.sweep",
                "schedule": settings.health_sweep_every_s,
                # A sweep nobody ran in time is dropped: the next one claims the same cameras.
                "options": {"queue": HEALTH_QUEUE, "expires": settings.health_sweep_every_s},
            },
            "plate-partitions": {
                "task": "hub.plates.tasks.maintain_partitions",
                "schedule": 6 * 3600,  # four times a day: a missed run costs nothing
                "options": {"queue": PLATES_QUEUE, "expires": 3600},
            },
            "analytics-segments": {
                "task": "hub.analytics.tasks.schedule_segments",
                "schedule": settings.analytics_segment_s,
                "options": {"queue": ANALYTICS_QUEUE, "expires": settings.analytics_segment_s},
            },
            "federation-sweep": {
                "task": "federation.tasks.sweep",
                "schedule": settings.federation_sweep_s,
                # A late sweep is dropped: the next one finds the same deliveries due.
                "options": {"queue": FEDERATION_QUEUE, "expires": settings.federation_sweep_s},
            },
            "federation-nonce-purge": {
                "task": "federation.tasks.purge_nonces",
                "schedule": 3600,
                "options": {"queue": FEDERATION_QUEUE, "expires": 3600},
            },
            "federation-peer-refresh": {
                "task": "federation.tasks.refresh_peers",
                "schedule": 600,
                "options": {"queue": FEDERATION_QUEUE, "expires": 600},
            },
        },
        # A probe bounds itself (settings.probe_timeout_s); this hard limit is the backstop
        # that kills a child stuck in native code, so a worker never hangs on one camera.
        task_soft_time_limit=max(settings.probe_timeout_s * 3, settings.health_timeout_s) + 15,
        task_time_limit=max(settings.probe_timeout_s * 3, settings.health_timeout_s) + 30,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        worker_hijack_root_logger=False,
    )
    return app


celery_app = make_celery(get_settings())
