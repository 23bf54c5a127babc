"""The Celery app's delivery settings and the probe queue's dead-letter path (no broker)."""

from hub.settings import Settings
from hub.worker import DEAD_LETTER, PROBE_QUEUE, make_celery


def test_at_least_once_delivery_one_message_at_a_time_json_only() -> None:
    conf = make_celery(Settings(broker_url="amqp://guest:guest@127.0.0.1:5672//")).conf
    assert conf.task_acks_late is True
    assert conf.task_acks_on_failure_or_timeout is False  # failures are rejected: dead-lettered
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]


def test_probe_queue_dead_letters_to_a_queue_an_operator_can_see() -> None:
    conf = make_celery(Settings()).conf
    queues = {q.name: q for q in conf.task_queues}
    assert queues[PROBE_QUEUE].queue_arguments == {
        "x-dead-letter-exchange": DEAD_LETTER,
        "x-dead-letter-routing-key": PROBE_QUEUE,
    }
    dead = queues[DEAD_LETTER]
    assert dead.exchange.name == DEAD_LETTER and dead.routing_key == PROBE_QUEUE
    assert conf.task_routes["hub.registry.tasks.probe_camera"] == {"queue": PROBE_QUEUE}


def test_time_limit_backstops_the_longest_camera_timeout() -> None:
    conf = make_celery(Settings(probe_timeout_s=5, health_timeout_s=5)).conf
    assert conf.task_soft_time_limit == 30 and conf.task_time_limit == 45  # 3 probe calls
    conf = make_celery(Settings(probe_timeout_s=5, health_timeout_s=40)).conf
    assert conf.task_soft_time_limit == 55 and conf.task_time_limit == 70  # one health check


def test_beat_sends_the_health_sweep_to_the_health_queue() -> None:
    conf = make_celery(Settings(health_sweep_every_s=7)).conf
    entry = conf.beat_schedule["health-sweep"]
    assert entry["task"] == "hub.health.tasks.sweep" and entry["schedule"] == 7
    assert entry["options"]["queue"] == "health"
    assert conf.task_routes["hub.health.tasks.*"] == {"queue": "health"}


def test_every_task_module_is_loaded_and_routed() -> None:
    conf = make_celery(Settings()).conf
    assert set(conf.include) == {
        "hub.registry.tasks",
        "hub.health.tasks",
        "hub.analytics.tasks",
        "hub.plates.tasks",
        "hub.coverage.tasks",
        "federation.tasks",
    }
    assert conf.task_routes["hub.analytics.tasks.read_vehicle"] == {"queue": "plates"}
    assert conf.task_routes["hub.analytics.tasks.*"] == {"queue": "analytics"}
    assert conf.task_routes["federation.tasks.*"] == {"queue": "federation"}
    assert conf.task_routes["hub.coverage.tasks.*"] == {"queue": "coverage"}
    schedule = {entry["task"] for entry in conf.beat_schedule.values()}
    assert schedule == {
        "hub.health.tasks.sweep",
        "hub.analytics.tasks.schedule_segments",
        "hub.plates.tasks.maintain_partitions",
        "hub.coverage.tasks.refresh_stale",
        "federation.tasks.sweep",
        "federation.tasks.purge_nonces",
        "federation.tasks.refresh_peers",
    }
