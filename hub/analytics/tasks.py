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

import base64
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import AdapterError, ColorFrame, Target
from adapters.rtsp import RtspAdapter
from hub.analytics import service
from hub.analytics.colour import dominant_colour
from hub.analytics.detection import Detector, load_detector
from hub.analytics.evidence import EvidenceStore
from hub.analytics.pipeline import Pipeline, VehicleSighting
from hub.analytics.rules import RuleEngine
from hub.analytics.tracking import Tracker
from hub.db import make_engine, make_sessionmaker, session_scope
from hub.events.service import store_events
from hub.keys import credential_key
from hub.plates.normalize import normalize, resolve
from hub.plates.reader import PlateReader
from hub.plates.store import store_read
from hub.plates.voting import Read, vote
from hub.registry.convert import point_of
from hub.registry.models import Camera
from hub.registry.secrets import CredentialBox
from hub.settings import Settings, get_settings
from hub.worker import ANALYTICS_QUEUE, PLATES_QUEUE, celery_app
from schemas.analytics import AnalyticsSettings, Colour, Direction, ObjectClass, PlateRead
from schemas.events import EventKind, NormalizedEvent

log = logging.getLogger(__name__)

SIGHTINGS = uuid.UUID("0b6f3c52-5a57-4c1e-9d0a-6b1f0e3c2a71")  # namespace of vehicle ids

FrameSource = Callable[[Target, float, float], Iterator[tuple[float, ColorFrame]]]
VehicleSink = Callable[[VehicleSighting], None]


@dataclass(frozen=True)
class AnalyticsContext:
    sessions: sessionmaker[Session]
    box: CredentialBox
    models_dir: Path
    data_dir: Path
    evidence: EvidenceStore
    source: FrameSource = field(default_factory=lambda: RtspAdapter().sample)
    timeout_s: float = 10.0


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


def build_pipeline(camera_id: uuid.UUID, plan: _Plan, ctx: AnalyticsContext) -> Pipeline:
    settings = plan.settings

    def evidence(at: datetime, frame: ColorFrame) -> str:
        return ctx.evidence.put(camera_id, at, frame, "event")

    return Pipeline(
        camera_id,
        settings,
        detector_for(settings, ctx),
        Tracker(frame_rate=settings.fps),
        RuleEngine(camera_id, list(settings.zones), list(settings.lines), plan.position),
        colour_of=dominant_colour,
        evidence=evidence,
    )


def run_segment(
    camera_id: uuid.UUID, seconds: float, ctx: AnalyticsContext, on_vehicle: VehicleSink
) -> SegmentReport:
    """Analyse `seconds` of the camera's stream; what it saw. A stream that fails mid-way ends
    the segment cleanly with the adapter's code (the health sweep notices the camera).

    Vehicles that left the picture become `vehicle` events (class, colour, direction) when
    the camera asks for vehicle attributes, and go to `on_vehicle` (the plate readers) when
    it asks for plates.
    """
    plan = _plan(camera_id, ctx)
    if plan is None:
        return SegmentReport(camera_id, error_code="not_enabled")
    pipeline = build_pipeline(camera_id, plan, ctx)
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

    try:
        for timestamp, frame in ctx.source(plan.target, plan.settings.fps, seconds):
            outcome = pipeline.process(datetime.fromtimestamp(timestamp, UTC), frame)
            frames += 1
            vehicles += len(outcome.finished)
            if outcome.events or outcome.finished:
                events += finished(outcome.finished, outcome.events)
    except AdapterError as exc:
        error = exc.code
        log.warning("camera %s: analysis stopped: %s", camera_id, plan.target.redact(exc.message))
    left = pipeline.finish()
    vehicles += len(left)
    events += finished(left, [])
    return SegmentReport(camera_id, frames, events, vehicles, error)


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


def vehicle_message(sighting: VehicleSighting) -> dict[str, Any]:
    """A vehicle as a JSON task argument: its facts and its crops as base64 JPEG."""
    crops = []
    for _, crop in sighting.crops:
        ok, jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if ok:
            crops.append(base64.b64encode(bytes(jpeg)).decode())
    return {
        "camera_id": str(sighting.camera_id),
        "track_id": sighting.track_id,
        "object_class": sighting.object_class.value,
        "first_seen": sighting.first_seen.isoformat(),
        "last_seen": sighting.last_seen.isoformat(),
        "direction": sighting.direction.value if sighting.direction else None,
        "colour": sighting.colour.value if sighting.colour else None,
        "crops": crops,
    }


def decode_crops(message: dict[str, Any]) -> list[ColorFrame]:
    frames: list[ColorFrame] = []
    for text in message["crops"]:
        data = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
        frame = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if frame is not None:
            frames.append(frame.astype(np.uint8, copy=False))
    return frames


@dataclass(frozen=True)
class VehicleRead:
    read: PlateRead
    stored: bool
    alerts: int
    exempt: bool


@lru_cache(maxsize=4)
def plate_reader(models_dir: Path, region: str | None) -> PlateReader:
    """Loaded once per worker process and region."""
    return PlateReader(models_dir, region)


def run_read_vehicle(message: dict[str, Any], ctx: AnalyticsContext) -> VehicleRead | None:
    """Read the plate of one vehicle from its crops: every crop's reading votes, the winner is
    stored with the best crop as evidence, matched against the hotlists, and announced as a
    `plate` event. None when no crop shows a legible plate."""
    camera_id = uuid.UUID(message["camera_id"])
    with session_scope(ctx.sessions) as session:
        region = service.settings_of(session, camera_id).plate_region
    reader = plate_reader(ctx.models_dir, region)
    readings = [r for crop in decode_crops(message) for r in reader.read_frame(crop)]
    voted = vote([Read(normalize(r.raw_text), r.char_confidences) for r in readings])
    if voted is None:
        return None
    text, confidence = voted
    plate = resolve(text, region)
    best = max(readings, key=lambda r: (r.plate == plate, r.confidence))
    first_seen = datetime.fromisoformat(message["first_seen"])
    evidence = ctx.evidence.put_jpeg(camera_id, first_seen, best.crop_jpeg, "plate")
    read = PlateRead(
        id=uuid.uuid5(SIGHTINGS, f"{camera_id}/{message['track_id']}/{message['first_seen']}"),
        camera_id=camera_id,
        read_at=first_seen,
        plate=plate,
        raw_text=best.raw_text[:32],
        confidence=round(confidence, 4),
        region=region,
        vehicle_class=ObjectClass(message["object_class"]),
        colour=Colour(message["colour"]) if message["colour"] else None,
        direction=Direction(message["direction"]) if message["direction"] else None,
        track_id=message["track_id"],
        evidence=evidence,
    )
    with session_scope(ctx.sessions) as session:
        stored = store_read(session, read)
        if stored.stored:
            store_events(session, [plate_event(read, stored.exempt)])
    return VehicleRead(read, stored.stored, len(stored.alerts), stored.exempt)


def plate_event(read: PlateRead, exempt: bool) -> NormalizedEvent:
    data: dict[str, str | bool | int | float] = {
        "plate": read.plate,
        "confidence": read.confidence,
        "read_id": str(read.id),
        "enforcement_exempt": exempt,
    }
    for key, value in (
        ("class", read.vehicle_class),
        ("colour", read.colour),
        ("direction", read.direction),
        ("snapshot", read.evidence),
    ):
        if value is not None:
            data[key] = str(value)
    return NormalizedEvent(
        id=read.id,
        camera_id=read.camera_id,
        kind=EventKind.PLATE,
        occurred_at=read.read_at,
        source="analytics",
        topic="c4hub/analytics/plate",
        subject={"track": str(read.track_id)},
        data=data,
    )


def context_from(settings: Settings) -> AnalyticsContext:
    if not settings.database_url:
        raise RuntimeError("the worker needs C4HUB_DATABASE_URL")
    return AnalyticsContext(
        sessions=make_sessionmaker(make_engine(settings.database_url)),
        box=CredentialBox(credential_key(settings)),
        models_dir=settings.models_dir,
        data_dir=settings.data_dir,
        evidence=EvidenceStore(settings.data_dir / "evidence"),
        timeout_s=settings.probe_timeout_s,
    )


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
