"""A vehicle that left the picture, as a plates-queue message, and its reading: the plate voted
over its crops, stored, matched against the hotlists and announced as a `plate` event."""

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adapters.base import ColorFrame
from hub.analytics import service
from hub.analytics.context import AnalyticsContext
from hub.analytics.pipeline import VehicleSighting
from hub.analytics.segments import SIGHTINGS
from hub.db import session_scope
from hub.events.service import store_events
from hub.plates.normalize import normalize, resolve
from hub.plates.reader import PlateReader
from hub.plates.store import store_read
from hub.plates.voting import Read, vote
from schemas.analytics import Colour, Direction, ObjectClass, PlateRead
from schemas.events import EventKind, NormalizedEvent


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
