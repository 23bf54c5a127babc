"""Analytics tasks on two queues, so each kind of work scales with its own workers:

- `analytics`: `analyse_segment(camera_id, seconds)` reads the camera's stream for `seconds`
  at its analysis rate, detects, tracks and applies the rules, and stores the events as they
  come (one short transaction per frame that caused any). Beat's `schedule_segments` sends
  one segment per enabled camera every C4HUB_ANALYTICS_SEGMENT_S.
- `plates`: `read_vehicle`, one message per vehicle that left the picture, with its best
  crops: plate reading, per-track voting, the stored read, hotlist matches and alerts.

Redelivery is harmless: event ids are derived from camera, rule, track and frame time, and a
plate read's id from camera, track and first sighting, so storing twice stores once.
"""

import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import OperationalError

from hub.analytics import service
from hub.analytics.context import AnalyticsContext, context_from
from hub.analytics.pipeline import VehicleSighting
from hub.analytics.segments import run_segment
from hub.analytics.vehicles import run_read_vehicle, vehicle_message
from hub.db import session_scope
from hub.settings import get_settings
from hub.worker import ANALYTICS_QUEUE, PLATES_QUEUE, celery_app


@lru_cache(maxsize=1)
def worker_context() -> AnalyticsContext:
    """Built once per worker process, on its first task (after the fork)."""
    return context_from(get_settings())


def _send_vehicle(sighting: VehicleSighting) -> None:
    read_vehicle.apply_async(args=[vehicle_message(sighting)], queue=PLATES_QUEUE)


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="hub.analytics.tasks.read_vehicle",
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def read_vehicle(message: dict[str, Any]) -> str | None:
    """Read, store and match one vehicle's plate; the plate read, or None."""
    done = run_read_vehicle(message, worker_context())
    return None if done is None else done.read.plate


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="hub.analytics.tasks.schedule_segments",
    autoretry_for=(OperationalError,),
    max_retries=2,
)
def schedule_segments() -> int:
    """Send one segment per camera whose analytics are enabled; how many were sent."""
    seconds = get_settings().analytics_segment_s
    with session_scope(worker_context().sessions) as session:
        cameras = service.enabled_cameras(session)
    for camera_id in cameras:
        analyse_segment.apply_async(
            args=[str(camera_id), seconds], queue=ANALYTICS_QUEUE, expires=seconds
        )
    return len(cameras)


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="hub.analytics.tasks.analyse_segment",
    autoretry_for=(OperationalError,),
    max_retries=2,
    retry_backoff=2,
    # A segment runs as long as it reads: the worker-wide limits are for camera calls.
    soft_time_limit=get_settings().analytics_segment_s + 60,
    time_limit=get_settings().analytics_segment_s + 90,
)
def analyse_segment(camera_id: str, seconds: float) -> dict[str, Any]:
    report = run_segment(uuid.UUID(camera_id), seconds, worker_context(), _send_vehicle)
    return report.__dict__ | {"camera_id": camera_id}
