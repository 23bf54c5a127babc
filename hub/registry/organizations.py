"""Organization service: create, change, find. Flushes; the caller commits."""

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import Conflict, Invalid, NotFound
from hub.registry.models import Camera, Organization
from hub.registry.shapes import multipolygon_ewkt
from schemas.geo import MultiPolygon, Polygon
from schemas.organization import OrganizationCreate, OrganizationUpdate


def _area(geometry: Polygon | MultiPolygon | None) -> str | None:
    if geometry is None:
        return None
    try:
        return multipolygon_ewkt(geometry)
    except ValueError as exc:
        raise Invalid(str(exc), "jurisdiction") from None


def create_organization(session: Session, data: OrganizationCreate) -> Organization:
    org = Organization(
        slug=data.slug, name=data.name, kind=data.kind, jurisdiction=_area(data.jurisdiction)
    )
    try:
        with session.begin_nested():
            session.add(org)
            session.flush()
    except IntegrityError:
        raise Conflict(f"An organization with slug {data.slug!r} already exists.") from None
    session.refresh(org)
    return org


def update_organization(
    session: Session, org: Organization, data: OrganizationUpdate
) -> Organization:
    changes = data.model_dump(exclude_unset=True)
    for field in ("name", "kind"):
        if field in changes:
            if changes[field] is None:
                raise Invalid(f"{field} cannot be null", field)
            setattr(org, field, changes[field])
    if "jurisdiction" in changes:
        org.jurisdiction = _area(data.jurisdiction)  # type: ignore[assignment]
    session.flush()
    session.refresh(org)
    return org


def get_organization(session: Session, ref: uuid.UUID | str) -> Organization:
    """By id, or by slug when `ref` is not a UUID."""
    column = Organization.id if isinstance(ref, uuid.UUID) else Organization.slug
    if isinstance(ref, str):
        try:
            ref = uuid.UUID(ref)
            column = Organization.id
        except ValueError:
            pass
    org = session.scalars(select(Organization).where(column == ref)).one_or_none()
    if org is None:
        raise NotFound("Organization", ref)
    return org


def list_organizations(session: Session, scope: uuid.UUID | None) -> list[Organization]:
    stmt = select(Organization).order_by(Organization.slug)
    if scope is not None:
        stmt = stmt.where(Organization.id == scope)
    return list(session.scalars(stmt))


def delete_organization(session: Session, org: Organization) -> None:
    owned = session.scalar(select(Camera.id).where(Camera.owner_id == org.id).limit(1))
    if owned is not None:
        raise Conflict("The organization still owns cameras; move or delete them first.")
    session.delete(org)
    session.flush()
