"""Coverage of an area, cached per (area, options, caller scope). Flushes; the caller commits.

A cached result carries the registry version it was computed at (a counter that triggers bump
on every camera, owner-kind or obstacle change that can alter a coverage). A request that finds
it stale recomputes it at once; the coverage worker does the same ahead of time for every cached
area. The row and its gaps are replaced in the caller's transaction, so a cache entry is whole
or absent, never half-written.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from hub.coverage.areas import AreaError, area_ewkt, parse_area
from hub.coverage.compute import ALL, SHAREABLE, Measured, measure
from hub.coverage.models import CoverageCache, CoverageGap
from hub.coverage.sectors import utm_srid
from hub.errors import Invalid, NotFound
from hub.registry.models import Camera, Organization
from hub.settings import Settings
from schemas.enums import CameraPurpose


@dataclass(frozen=True)
class Target:
    """The area to measure: hex EWKB (MultiPolygon, EPSG:4326) and where it came from."""

    area_hex: str
    organization_id: uuid.UUID | None


@dataclass(frozen=True)
class Outcome:
    entry: CoverageCache
    cached: bool


def organization_target(session: Session, ref: str, scope: uuid.UUID | None) -> Target:
    """An organization's jurisdiction, by slug or id; 404 if unknown (or not the caller's)."""
    try:
        ident: uuid.UUID | None = uuid.UUID(ref)
    except ValueError:
        ident = None
    column = Organization.id if ident is not None else Organization.slug
    org = session.scalar(select(Organization).where(column == (ident or ref)))
    if org is None or (scope is not None and org.id != scope):
        raise NotFound("Organization", ref)
    if org.jurisdiction is None:
        raise Invalid(
            f"Organization {org.slug} has no jurisdiction recorded; set one "
            "(PATCH /api/v1/organizations/{id}) or send the area as GeoJSON.",
            "organization",
        )
    hexed = session.scalar(select(func.encode(func.ST_AsEWKB(org.jurisdiction), "hex")))
    return Target(str(hexed), org.id)


def geojson_target(session: Session, geometry: Any, settings: Settings) -> Target:
    """A drawn or uploaded area; 422 with the reason when it is empty, invalid or too large."""
    try:
        area = parse_area(geometry)
    except AreaError as exc:
        raise Invalid(str(exc), "area") from None
    row = session.execute(
        text(
            "SELECT encode(ST_AsEWKB(g), 'hex') AS hexed, ST_Area(g::geography) AS m2 "
            "FROM (SELECT ST_GeomFromEWKT(:ewkt) AS g) a"
        ),
        {"ewkt": area_ewkt(area)},
    ).one()
    if row.m2 > settings.coverage_max_area_km2 * 1e6:
        raise Invalid(
            f"area is {row.m2 / 1e6:.0f} km², above the {settings.coverage_max_area_km2:g} km² "
            "limit (C4HUB_COVERAGE_MAX_AREA_KM2); split it",
            "area",
        )
    return Target(str(row.hexed), None)


def registry_version(session: Session) -> str:
    """The counter that every change able to alter a coverage bumps (a camera added, removed,
    moved, re-aimed or re-purposed, an owner's kind, an obstacle): see migration 0011."""
    value = session.scalar(
        text("SELECT last_value + is_called::int FROM coverage_registry_version")
    )
    return str(value)


def _options(obstacles: bool, settings: Settings) -> dict[str, Any]:
    # The settings that shape the result belong to the key: changing them recomputes.
    return {
        "obstacles": obstacles,
        "default_range_m": settings.coverage_default_range_m,
        "tile_m": settings.coverage_tile_m,
    }


def cache_key(target: Target, options: dict[str, Any], scope: uuid.UUID | None) -> str:
    blob = json.dumps([target.area_hex, options, str(scope)], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def coverage(
    session: Session,
    target: Target,
    *,
    obstacles: bool,
    scope: uuid.UUID | None,
    settings: Settings,
) -> Outcome:
    """The cached coverage when the registry has not changed since, else a fresh one."""
    options = _options(obstacles, settings)
    key = cache_key(target, options, scope)
    version = registry_version(session)
    entry = session.scalar(select(CoverageCache).where(CoverageCache.key == key))
    if entry is not None and entry.version == version:
        return Outcome(entry, cached=True)
    # One computation per key at a time; whoever waited finds the other's result.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    session.expire_all()
    entry = session.scalar(select(CoverageCache).where(CoverageCache.key == key))
    if entry is not None and entry.version == version:
        return Outcome(entry, cached=True)
    entry = store(session, key, target, options, scope, version)
    return Outcome(entry, cached=False)


def reach_m(session: Session, default_range_m: float) -> float:
    """The farthest any camera sees (its range, or the default for an assumed circle): how far
    around an area or a demand point to look for cameras."""
    longest = session.scalar(select(func.max(Camera.range_m)))
    return max(default_range_m, float(longest or 0.0))


def store(
    session: Session,
    key: str,
    target: Target,
    options: dict[str, Any],
    scope: uuid.UUID | None,
    version: str,
) -> CoverageCache:
    """Compute and replace the cache entry `key` with its gaps, in the caller's transaction."""
    centre = session.execute(
        text(
            "SELECT ST_X(c) AS lon, ST_Y(c) AS lat FROM "
            "(SELECT ST_PointOnSurface(CAST(:area AS geometry)) AS c) p"
        ),
        {"area": target.area_hex},
    ).one()
    try:
        srid = utm_srid(centre.lon, centre.lat)
    except ValueError as exc:
        raise Invalid(str(exc), "area") from None
    session.execute(delete(CoverageCache).where(CoverageCache.key == key))
    entry = CoverageCache(
        id=uuid.uuid4(),
        key=key,
        area=WKBElement(bytes.fromhex(target.area_hex), srid=4326, extended=True),
        organization_id=target.organization_id,
        scope_org_id=scope,
        options=options,
        result={},
        version=version,
        computed_at=datetime.now(UTC),
    )
    session.add(entry)
    session.flush()
    measured = measure(
        session,
        target.area_hex,
        cache_id=entry.id,
        srid=srid,
        scope=scope,
        obstacles=bool(options["obstacles"]),
        tile_m=float(options["tile_m"]),
        default_range_m=float(options["default_range_m"]),
        reach_m=reach_m(session, float(options["default_range_m"])),
    )
    entry.result = summarize(measured, float(options["default_range_m"]))
    session.flush()
    return entry


def _share(part: float, whole: float) -> float:
    return round(part / whole, 6) if whole > 0 else 0.0


def _figure(covered_m2: float, area_m2: float) -> dict[str, float]:
    return {"covered_m2": round(covered_m2, 1), "share": _share(covered_m2, area_m2)}


def _by(prefix: str, measured: Measured) -> dict[str, dict[str, float]]:
    return {
        grp.removeprefix(prefix): _figure(m2, measured.area_m2)
        for grp, m2 in sorted(measured.covered_m2.items())
        if grp.startswith(prefix)
    }


def summarize(measured: Measured, default_range_m: float) -> dict[str, Any]:
    """The stored result: figures in square metres and shares of the area."""
    area, covered = measured.area_m2, measured.covered_m2.get(ALL, 0.0)
    crime = measured.covered_m2.get(f"purpose:{CameraPurpose.CRIME_PREVENTION.value}", 0.0)
    shared = measured.covered_m2.get(SHAREABLE, 0.0)
    result: dict[str, Any] = {
        "area_m2": round(area, 1),
        **_figure(covered, area),
        "by_owner_kind": _by("owner_kind:", measured),
        "by_purpose": _by("purpose:", measured),
        # Crime prevention today sees what its own cameras see; sharing the parking-enforcement
        # cameras with it would add what only they see.
        "if_parking_shared": {
            "crime_prevention_m2": round(crime, 1),
            **_figure(shared, area),
            "gain_m2": round(max(0.0, shared - crime), 1),
        },
        "cameras": measured.cameras,
        "assumed_360": {
            "count": measured.assumed_count,
            "camera_ids": [str(i) for i in measured.assumed_ids],
            "default_range_m": default_range_m,
        },
        "gaps": measured.gaps,
        "gap_m2": round(measured.gap_m2, 1),
    }
    if measured.cameras == 0:
        result["note"] = "No camera's field of view reaches this area: it is all gap."
    return result


def gap_features(session: Session, entry: CoverageCache) -> list[dict[str, Any]]:
    """The entry's gap polygons as GeoJSON Features, largest first."""
    rows = session.execute(
        select(CoverageGap.id, func.ST_AsGeoJSON(CoverageGap.geom, 7), CoverageGap.area_m2)
        .where(CoverageGap.cache_id == entry.id)
        .order_by(CoverageGap.area_m2.desc())
    )
    return [
        {
            "type": "Feature",
            "id": str(gid),
            "geometry": json.loads(geometry),
            "properties": {"area_m2": round(m2, 1)},
        }
        for gid, geometry, m2 in rows
    ]


def stale_keys(session: Session) -> list[str]:
    version = registry_version(session)
    rows = session.scalars(select(CoverageCache.key).where(CoverageCache.version != version))
    return list(rows)


def refresh(session: Session, key: str) -> bool:
    """Recompute one cached entry if it is stale; False when it is gone or already current."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    entry = session.scalar(select(CoverageCache).where(CoverageCache.key == key))
    version = registry_version(session)
    if entry is None or entry.version == version:
        return False
    hexed = session.scalar(select(func.encode(func.ST_AsEWKB(entry.area), "hex")))
    target = Target(str(hexed), entry.organization_id)
    store(session, key, target, dict(entry.options), entry.scope_org_id, version)
    return True
