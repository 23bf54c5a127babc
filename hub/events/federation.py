"""Camera events (ONVIF intake and analytics) offered to peers as `org.c4hub.detection.v1`,
for agreements with the `detections` scope: only cameras on the map, never the raw message."""

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from federation.outbox import Located, emit_many
from hub.registry.consent import on_map
from hub.registry.models import Camera
from schemas.events import EventKind, NormalizedEvent
from schemas.federation import DetectionData, EventType
from schemas.geo import Point

# Plate reads travel as org.c4hub.plate.read.v1; state snapshots and unparsed topics not at all.
NOT_SHARED = frozenset({EventKind.PLATE, EventKind.UNKNOWN})


def publish(session: Session, events: Sequence[NormalizedEvent]) -> int:
    """Emit the shareable ones of freshly stored events; how many deliveries were written."""
    shared = [e for e in events if e.kind not in NOT_SHARED and not e.initial]
    if not shared:
        return 0
    cameras = {e.camera_id for e in shared}
    rows = session.execute(
        select(
            Camera.id, Camera.name, func.ST_X(Camera.location), func.ST_Y(Camera.location)
        ).where(Camera.id.in_(cameras), *on_map(None))
    ).all()
    places: dict[uuid.UUID, tuple[str | None, tuple[float, float]]] = {
        r[0]: (r[1], (float(r[2]), float(r[3]))) for r in rows
    }
    located = []
    for event in shared:
        if event.camera_id not in places:
            continue
        name, position = places[event.camera_id]
        data = DetectionData(
            event_id=event.id,
            camera_id=event.camera_id,
            camera_name=name,
            kind=event.kind.value,
            occurred_at=event.occurred_at,
            active=event.active,
            position=Point(type="Point", coordinates=list(position)),
            subject=dict(event.subject or {}),
            data=dict(event.data or {}),
        )
        located.append(Located(data, position, event.id, event.occurred_at, f"event:{event.id}"))
    return emit_many(session, EventType.DETECTION, located)
