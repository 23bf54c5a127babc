"""One segment of a camera's stream: read it at the camera's rate, detect, track, apply the
rules, store the events as they happen, and hand the vehicles that left to the plate readers.
Tracks, visits and references carry on from the camera's previous segment (hub.analytics.state).
"""

import logging
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from pathlib import Path

from adapters.base import AdapterError, ColorFrame, Target
from hub.analytics import service, state
from hub.analytics.colour import dominant_colour
from hub.analytics.context import AnalyticsContext
from hub.analytics.detection import Detector, load_detector
from hub.analytics.pipeline import Pipeline, VehicleSighting
from hub.analytics.state import Carried
from hub.db import session_scope
from hub.events.service import store_events
from hub.registry.convert import point_of
from hub.registry.models import Camera
from hub.settings import get_settings
from schemas.analytics import AnalyticsSettings
from schemas.events import EventKind, NormalizedEvent

log = logging.getLogger(__name__)

SIGHTINGS = uuid.UUID("0b6f3c52-5a57-4c1e-9d0a-6b1f0e3c2a71")  # namespace of vehicle ids

VehicleSink = Callable[[VehicleSighting], None]


@dataclass(frozen=True)
class SegmentReport:
    camera_id: uuid.UUID
    frames: int = 0
    events: int = 0
    vehicles: int = 0
    error_code: str | None = None  # the adapter's code when the stream failed mid-way


@dataclass(frozen=True)
class _Plan:
    settings: AnalyticsSettings
    target: Target
    position: tuple[float, float]


@lru_cache(maxsize=8)
def _detector(settings_json: str, models_dir: Path, data_dir: Path) -> Detector:
    """Loaded once per worker process and model: loading costs far more than a frame."""
    settings = AnalyticsSettings.model_validate_json(settings_json)
    return load_detector(settings, models_dir, data_dir)


def detector_for(settings: AnalyticsSettings, ctx: AnalyticsContext) -> Detector:
    key = settings.model_copy(update={"zones": [], "lines": []}).model_dump_json()
    return _detector(key, ctx.models_dir, ctx.data_dir)


def _plan(camera_id: uuid.UUID, ctx: AnalyticsContext) -> _Plan | None:
    with session_scope(ctx.sessions) as session:
        if camera_id not in service.enabled_cameras(session, camera_id):
            return None  # turned off, retired or consent withdrawn since it was scheduled
        camera = session.get_one(Camera, camera_id)
        settings = service.settings_of(session, camera_id)
        creds = ctx.box.open(camera.credentials_sealed) if camera.credentials_sealed else None
        stream = camera.stream_uri or ""  # enabled_cameras: only cameras with a stream
        point = point_of(camera.location)
    target = Target.from_uri(
        stream,
        username=creds.username if creds else None,
        password=creds.password if creds else None,
        timeout_s=ctx.timeout_s,
    )
    return _Plan(settings, target, (point.lon, point.lat))


def build_pipeline(
    camera_id: uuid.UUID, plan: _Plan, ctx: AnalyticsContext, carried: Carried
) -> Pipeline:
    settings = plan.settings

    def evidence(at: datetime, frame: ColorFrame) -> str:
        return ctx.evidence.put(camera_id, at, frame, "event")

    return Pipeline(
        camera_id,
        settings,
        detector_for(settings, ctx),
        carried.tracker,
        carried.rules,
        colour_of=dominant_colour,
        evidence=evidence,
    )


def run_segment(
    camera_id: uuid.UUID,
    seconds: float,
    ctx: AnalyticsContext,
    on_vehicle: VehicleSink,
    resume_s: float | None = None,
) -> SegmentReport:
    """Analyse `seconds` of the camera's stream; what it saw. A stream that fails mid-way ends
    the segment cleanly with the adapter's code (the health sweep notices the camera).

    Vehicles that left the picture become `vehicle` events (class, colour, direction) when
    the camera asks for vehicle attributes, and go to `on_vehicle` (the plate readers) when
    it asks for plates.

    The tracker and rules carry on from the previous segment's when its last frame came at
    most `resume_s` (default C4HUB_ANALYTICS_RESUME_S) before this one's first, and are saved
    for the next at the end, also when the stream failed. A pending missing-object reference
    is taken once due (`state.reference_due`).
    """
    plan = _plan(camera_id, ctx)
    if plan is None:
        return SegmentReport(camera_id, error_code="not_enabled")
    with session_scope(ctx.sessions) as session:
        saved = state.load(session, camera_id)
    resume_after = get_settings().analytics_resume_s if resume_s is None else resume_s
    request = saved.requested_at if saved else None
    pipeline: Pipeline | None = None
    carried: Carried | None = None
    frames = events = vehicles = 0
    error = None

    def finished(sightings: list[VehicleSighting], extra: list[NormalizedEvent]) -> int:
        found = extra + [vehicle_event(s) for s in sightings if plan.settings.vehicle_attributes]
        if found:
            with session_scope(ctx.sessions) as session:
                stored = len(store_events(session, found))
        else:
            stored = 0
        for sighting in sightings:
            if plan.settings.plates and sighting.crops:
                on_vehicle(sighting)
        return stored

    def save(analysis: Carried, taken: datetime | None) -> None:
        with session_scope(ctx.sessions) as session:
            state.save(session, camera_id, plan.settings, analysis, taken)

    try:
        source = ctx.source(plan.target, plan.settings.fps, seconds)
        with closing(_timed(source)) as timed:
            # The first frame's time tells whether the previous segment's analysis goes on.
            first = next(timed, None)
            if first is not None:
                carried = state.resume(
                    saved, camera_id, plan.settings, plan.position, first[0], resume_after
                )
                pipeline = build_pipeline(camera_id, plan, ctx, carried)
                # Streamed: the next frame's model run goes on while this one's events are
                # stored.
                with closing(pipeline.stream(chain([first], timed))) as outcomes:
                    for outcome in outcomes:
                        frames += 1
                        vehicles += len(outcome.finished)
                        if outcome.events or outcome.finished:
                            events += finished(outcome.finished, outcome.events)
                        if request is not None and _took_reference(camera_id, request, carried):
                            save(carried, request)  # at once: the operator sees what was taken
                            request = None
    except AdapterError as exc:
        error = exc.code
        log.warning("camera %s: analysis stopped: %s", camera_id, plan.target.redact(exc.message))
    if pipeline is not None:
        left = pipeline.finish()
        vehicles += len(left)
        events += finished(left, [])
    if carried is not None:
        save(carried, None)
    return SegmentReport(camera_id, frames, events, vehicles, error)


def _timed(
    frames: Iterator[tuple[float, ColorFrame]],
) -> Generator[tuple[datetime, ColorFrame], None, None]:
    """The frames with their times as datetimes; closing this closes `frames` (a camera's
    frames hold its connection open until then)."""
    try:
        for timestamp, frame in frames:
            yield datetime.fromtimestamp(timestamp, UTC), frame
    finally:
        if isinstance(frames, Generator):
            frames.close()


def _took_reference(camera_id: uuid.UUID, requested_at: datetime, carried: Carried) -> bool:
    """Take the missing-object reference asked for at `requested_at` if it is due by the
    last frame; whether it was taken."""
    now = carried.rules.last_time
    if now is None or now < state.reference_due(requested_at, carried):
        return False
    taken = carried.rules.take_reference()
    log.info("camera %s: missing-object reference taken: %d objects", camera_id, len(taken))
    return True


def vehicle_event(sighting: VehicleSighting) -> NormalizedEvent:
    """A vehicle that passed: class, colour and direction. Its id is derived from camera,
    track and first sighting, so a redelivered segment stores it once."""
    data: dict[str, str | bool | int | float] = {"class": sighting.object_class.value}
    if sighting.colour is not None:
        data["colour"] = sighting.colour.value
    if sighting.direction is not None:
        data["direction"] = sighting.direction.value
    return NormalizedEvent(
        id=sighting_id(sighting),
        camera_id=sighting.camera_id,
        kind=EventKind.VEHICLE,
        occurred_at=sighting.first_seen,
        source="analytics",
        topic="c4hub/analytics/vehicle",
        subject={"track": str(sighting.track_id)},
        data=data,
    )


def sighting_id(sighting: VehicleSighting) -> uuid.UUID:
    name = f"{sighting.camera_id}/{sighting.track_id}/{sighting.first_seen.isoformat()}"
    return uuid.uuid5(SIGHTINGS, name)
