"""The state of the fleet in an area, for a plan: counts by owner, purpose, age, AI capability,
status, health and jurisdiction. Reads only; PostgreSQL does the counting."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Float, String, Subquery, cast, func, literal, select
from sqlalchemy.orm import Session, aliased

from hub.health.models import CameraHealth
from hub.planning.inputs import Area
from hub.registry.consent import on_map
from hub.registry.models import Camera, Organization

UNCHECKED = "unchecked"  # no health row yet: the sweep has never checked the camera
MAX_LISTED = 100


class Bucket(BaseModel):
    key: str | None = Field(description="The value counted; null: not recorded")
    label: str | None = None
    cameras: int = Field(description="Registry records")
    units: int = Field(description="Cameras, counting every unit of a multi-camera record")


class Aging(BaseModel):
    years: int
    installed_before: int = Field(description="Install years before this are flagged")
    cameras: int
    units: int
    camera_ids: list[uuid.UUID] = Field(description="The oldest first, at most 100")


class Survey(BaseModel):
    area: str
    generated_at: datetime
    cameras: int
    units: int
    by_owner: list[Bucket]
    by_owner_kind: list[Bucket]
    by_purpose: list[Bucket]
    by_install_year: list[Bucket]
    older_than: Aging
    by_ai_capable: list[Bucket]
    by_status: list[Bucket]
    by_health: list[Bucket]
    by_jurisdiction: list[Bucket] = Field(
        description="Per organization jurisdiction the cameras stand in (one camera may be in "
        "several); key null: in none"
    )


def _conditions(area: Area | None, scope: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conds = on_map(scope)
    if scope is not None:
        conds.append(Camera.owner_id == scope)
    if area is not None:
        shape = func.ST_GeomFromWKB(area.geom.wkb, 4326)
        conds.append(func.ST_Intersects(Camera.location, shape))
    return conds


def _base(area: Area | None, scope: uuid.UUID | None) -> Subquery:
    health = func.coalesce(cast(CameraHealth.status, String), literal(UNCHECKED))
    return (
        select(
            Camera.id,
            Camera.units,
            Camera.location,
            Organization.slug.label("owner"),
            Organization.name.label("owner_name"),
            cast(Organization.kind, String).label("owner_kind"),
            cast(Camera.purpose, String).label("purpose"),
            Camera.install_year,
            Camera.ai_capable,
            cast(Camera.status, String).label("status"),
            health.label("health"),
        )
        .join(Organization, Organization.id == Camera.owner_id)
        .outerjoin(CameraHealth, CameraHealth.camera_id == Camera.id)
        .where(*_conditions(area, scope))
        .subquery()
    )


def _key(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _buckets(
    session: Session, base: Subquery, column: str, label: str | None = None
) -> list[Bucket]:
    keys = [base.c[column]] + ([base.c[label]] if label else [])
    stmt = select(*keys, func.count(), func.coalesce(func.sum(base.c.units), 0)).group_by(*keys)
    out = [
        Bucket(key=_key(row[0]), label=row[1] if label else None, cameras=row[-2], units=row[-1])
        for row in session.execute(stmt)
    ]
    return sorted(out, key=lambda b: (-b.units, b.key or "~"))


def _jurisdictions(session: Session, base: Subquery) -> list[Bucket]:
    j = aliased(Organization)
    stmt = (
        select(j.slug, j.name, func.count(), func.coalesce(func.sum(base.c.units), 0))
        .select_from(base)
        .outerjoin(
            j, (j.jurisdiction.is_not(None)) & func.ST_Intersects(j.jurisdiction, base.c.location)
        )
        .group_by(j.slug, j.name)
    )
    out = [Bucket(key=s, label=n, cameras=c, units=u) for s, n, c, u in session.execute(stmt)]
    return sorted(out, key=lambda b: (b.key is None, -b.units, b.key or ""))


def _aging(session: Session, base: Subquery, years: int, now: datetime) -> Aging:
    before = now.year - years
    old = base.c.install_year < before
    cameras, units = session.execute(
        select(func.count(), func.coalesce(func.sum(base.c.units), 0)).where(old)
    ).one()
    ids = session.scalars(
        select(base.c.id).where(old).order_by(base.c.install_year, base.c.id).limit(MAX_LISTED)
    )
    return Aging(
        years=years, installed_before=before, cameras=cameras, units=units, camera_ids=list(ids)
    )


def survey(
    session: Session,
    area: Area | None,
    older_than_years: int,
    scope: uuid.UUID | None,
    now: datetime | None = None,
) -> Survey:
    """The counts for cameras standing in `area` (None: the whole node) that the caller sees."""
    now = now or datetime.now(UTC)
    base = _base(area, scope)
    cameras, units = session.execute(
        select(func.count(), func.coalesce(func.sum(base.c.units), 0))
    ).one()
    return Survey(
        area=area.label if area else "all cameras",
        generated_at=now,
        cameras=cameras,
        units=units,
        by_owner=_buckets(session, base, "owner", "owner_name"),
        by_owner_kind=_buckets(session, base, "owner_kind"),
        by_purpose=_buckets(session, base, "purpose"),
        by_install_year=sorted(
            _buckets(session, base, "install_year"), key=lambda b: (b.key is None, b.key or "")
        ),
        older_than=_aging(session, base, older_than_years, now),
        by_ai_capable=_buckets(session, base, "ai_capable"),
        by_status=_buckets(session, base, "status"),
        by_health=_buckets(session, base, "health"),
        by_jurisdiction=_jurisdictions(session, base) if cameras else [],
    )


def camera_points(
    session: Session, area: Area | None, scope: uuid.UUID | None, limit: int
) -> list[tuple[float, float, str]]:
    """Where the cameras stand (lon, lat, health), for the report's map; at most `limit`."""
    base = _base(area, scope)
    stmt = (
        select(
            func.ST_X(base.c.location).cast(Float),
            func.ST_Y(base.c.location).cast(Float),
            base.c.health,
        )
        .order_by(base.c.id)
        .limit(limit)
    )
    return [(x, y, h) for x, y, h in session.execute(stmt)]
