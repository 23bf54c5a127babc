"""The map's one read of its own: every camera the caller may see, as compact JSON.

The registry and OGC APIs page full camera documents; 50,000 of them take the page several
seconds to fetch (bench/parts/map_render.py measured 4-8 s through the OGC items). The cameras
layer needs only position, owner, kind and status, so PostgreSQL writes that as one JSON array
of arrays (about 90 bytes a camera) and Python passes the text through untouched. Who sees what
follows the registry exactly: its consent rule (on_map) and a business held to its own cameras.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Text, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from hub.registry.consent import on_map
from hub.registry.models import Camera, Organization


@dataclass(frozen=True)
class CameraPoints:
    json: str  # [[id, lon, lat, owner slug, owner kind, status], ...] in id order
    shown: int
    total: int  # all the caller may see; more than `shown` when the limit cut the list


def _visible(scope: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conds = list(on_map(scope))
    if scope is not None:
        conds.append(Camera.owner_id == scope)
    return conds


def camera_points(session: Session, scope: uuid.UUID | None, limit: int) -> CameraPoints:
    conds = _visible(scope)
    row = func.json_build_array(
        Camera.id,
        # Plain doubles: PostgreSQL writes the shortest exact text (127.0276, not 127.02760000);
        # rounding through numeric cost a fifth of the query.
        func.ST_X(Camera.location),
        func.ST_Y(Camera.location),
        Organization.slug,
        Organization.kind,
        Camera.status,
    )
    rows = (
        select(row.label("r"), Camera.id.label("id"))
        .join(Organization, Organization.id == Camera.owner_id)
        .where(*conds)
        .order_by(Camera.id)
        .limit(limit)
        .subquery()
    )
    agg = cast(func.json_agg(aggregate_order_by(rows.c.r, rows.c.id)), Text)
    text, shown = session.execute(select(agg, func.count()).select_from(rows)).one()
    total = shown
    if shown == limit:
        total = session.scalar(select(func.count()).select_from(Camera).where(*conds)) or 0
    return CameraPoints(json=text or "[]", shown=shown, total=total)
