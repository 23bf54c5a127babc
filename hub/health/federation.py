"""A camera's confirmed status change offered to peers as `org.c4hub.camera.health.v1`, for
agreements with the `camera_health` scope (a neighbour watching its neighbours' state): only
cameras on the map."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from federation.outbox import emit
from hub.health.models import HealthEvent
from hub.registry.consent import on_map
from hub.registry.models import Camera
from schemas.federation import CameraHealthData, EventType
from schemas.geo import Point


def publish(session: Session, event: HealthEvent) -> None:
    place = session.execute(
        select(func.ST_X(Camera.location), func.ST_Y(Camera.location)).where(
            Camera.id == event.camera_id, *on_map(None)
        )
    ).first()
    if place is None:
        return
    position = (float(place[0]), float(place[1]))
    data = CameraHealthData(
        camera_id=event.camera_id,
        status=event.status.value,
        previous=event.previous.value,
        position=Point(type="Point", coordinates=list(position)),
        changed_at=event.occurred_at,
    )
    emit(
        session,
        EventType.CAMERA_HEALTH,
        data,
        subject=f"camera:{event.camera_id}",
        position=position,
        event_id=event.id,
        time=event.occurred_at,
    )
