"""Camera service: create, change, delete. Keeps the field-of-view footprint in step."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import Conflict, Invalid, NotFound
from hub.registry.convert import point_of
from hub.registry.fov import fov_ring, point_wkt, ring_wkt
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox, PlainCredentials
from hub.registry.targets import is_http
from schemas.camera import CameraCreate, CameraUpdate, Credentials
from schemas.enums import AdapterKind

# Fields that may not be cleared with null on update: the column has no "unknown" state.
_REQUIRED = {
    "owner_id",
    "location",
    "purpose",
    "ptz",
    "ai_capable",
    "adapter",
    "status",
    "tags",
    "units",
}
_FOV_INPUTS = {"location", "heading_deg", "fov_deg", "range_m", "ptz"}


def footprint_wkt(
    lon: float, lat: float, heading: float | None, fov: float | None, rng: float | None, ptz: bool
) -> str | None:
    ring = fov_ring(lon, lat, heading_deg=heading, fov_deg=fov, range_m=rng, ptz=ptz)
    return None if ring is None else ring_wkt(ring)


def _seal(box: CredentialBox, creds: Credentials | None) -> bytes | None:
    if creds is None:
        return None
    return box.seal(PlainCredentials(creds.username, creds.password.get_secret_value()))


def _check_owner(session: Session, owner_id: uuid.UUID) -> None:
    if session.get(Organization, owner_id) is None:
        raise NotFound("Organization", f"{owner_id} (owner_id); create it first")


@contextmanager
def _unique_external_id(session: Session, external_id: str | None) -> Iterator[None]:
    """Run changes and their flush inside a savepoint, so a duplicate leaves the session usable.

    Changes must be made inside: begin_nested() flushes pending changes before the savepoint.
    """
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"The owner already has a camera with external_id {external_id!r}."
        ) from None


def keep_device_service(camera: Camera) -> None:
    """An ONVIF camera given its device service URL as stream_uri also gets it as device_uri:
    a probe replaces stream_uri with the RTSP stream, and the device service must outlive
    that. stream_uri keeps the URL until then (enrolment and event intake read it)."""
    onvif = camera.adapter is AdapterKind.ONVIF
    if onvif and camera.device_uri is None and is_http(camera.stream_uri):
        camera.device_uri = camera.stream_uri


def create_camera(
    session: Session, box: CredentialBox, data: CameraCreate, owner_id: uuid.UUID
) -> Camera:
    _check_owner(session, owner_id)
    lon, lat = data.location.lon, data.location.lat
    fields = data.model_dump(exclude={"owner_id", "location", "credentials"})
    camera = Camera(
        id=uuid.uuid4(),
        owner_id=owner_id,
        location=point_wkt(lon, lat),
        fov=footprint_wkt(lon, lat, data.heading_deg, data.fov_deg, data.range_m, data.ptz),
        credentials_sealed=_seal(box, data.credentials),
        **fields,
    )
    keep_device_service(camera)
    with _unique_external_id(session, data.external_id):
        session.add(camera)
    session.refresh(camera)
    return camera


def update_camera(
    session: Session, box: CredentialBox, camera: Camera, data: CameraUpdate
) -> Camera:
    changes: dict[str, Any] = data.model_dump(
        exclude_unset=True, exclude={"credentials", "location"}
    )
    for field in _REQUIRED.intersection(data.model_fields_set):
        if getattr(data, field) is None:
            raise Invalid(f"{field} cannot be null", field)
    if data.owner_id is not None:
        _check_owner(session, data.owner_id)
    lon, lat = (data.location.lon, data.location.lat) if data.location else _lon_lat(camera)
    with _unique_external_id(session, changes.get("external_id", camera.external_id)):
        for field, value in changes.items():
            setattr(camera, field, value)
        if data.location is not None:
            camera.location = point_wkt(lon, lat)  # type: ignore[assignment]
        keep_device_service(camera)
        if "credentials" in data.model_fields_set:
            camera.credentials_sealed = _seal(box, data.credentials)
        if _FOV_INPUTS.intersection(data.model_fields_set):
            camera.fov = footprint_wkt(  # type: ignore[assignment]
                lon, lat, camera.heading_deg, camera.fov_deg, camera.range_m, camera.ptz
            )
    session.refresh(camera)
    return camera


def _lon_lat(camera: Camera) -> tuple[float, float]:
    point = point_of(camera.location)
    return point.lon, point.lat


def get_camera(session: Session, camera_id: uuid.UUID, scope: uuid.UUID | None) -> Camera:
    """A camera by id; outside the caller's scope it does not exist for them."""
    stmt = select(Camera).where(Camera.id == camera_id)
    if scope is not None:
        stmt = stmt.where(Camera.owner_id == scope)
    camera = session.scalars(stmt).one_or_none()
    if camera is None:
        raise NotFound("Camera", camera_id)
    return camera


def delete_camera(session: Session, camera: Camera) -> None:
    session.delete(camera)
    session.flush()
