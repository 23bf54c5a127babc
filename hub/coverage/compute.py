"""The coverage of one area, computed in PostGIS in one statement.

The area is projected to its UTM zone (metres) and cut into square tiles of
C4HUB_COVERAGE_TILE_M, anchored at the area's south-west corner (an area smaller than a tile is
one tile), each tile's part of the area further split by ST_Subdivide so no piece carries a long
boundary. Each camera's view is projected once (the GiST index on cameras.location finds the
cameras near the area), assigned to the tiles its bounding box overlaps by arithmetic on the
grid (not a spatial join) and clipped to each (ST_ClipByBox2D where the view is convex). The
clipped views are unioned per tile and owner kind; a tile's whole coverage is the union of its
few owner-kind unions, and crime prevention plus parking enforcement the union of those two
purposes' unions; a purpose holding all of a tile's views reuses the tile's union. Unions of a
few dozen simple polygons per tile stay cheap where one union over a city's cameras would not;
only tiles on the area's border are intersected with it.

Gaps are cut at tile borders: each gap polygon is the part of a tile no camera sees, small
enough to page through and draw (a city-wide gap with ten thousand holes would be one feature
no client can use). A GIS dissolves them if it needs to.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from hub.coverage.sectors import QUAD_SEGS
from hub.enrolment.rules import Use
from hub.enrolment.service import permits_clause
from schemas.enums import CameraPurpose, CameraStatus

ALL = "all"
SHAREABLE = "crime_or_parking"  # crime prevention plus parking enforcement, if it were shared
SUBDIVIDE_VERTICES = 64

_SQL = """
WITH area AS (
  SELECT ST_Transform(CAST(:area AS geometry), :srid) AS g,
         ST_Expand(ST_Envelope(CAST(:area AS geometry)), :reach_deg) AS near
),
frame AS (
  SELECT ST_XMin(g) AS x0, ST_YMin(g) AS y0,
         floor((ST_XMax(g) - ST_XMin(g)) / :tile_m)::int AS nx,
         floor((ST_YMax(g) - ST_YMin(g)) / :tile_m)::int AS ny
  FROM area
),
tiles AS MATERIALIZED (
  SELECT i, j, ST_Subdivide(ST_Intersection(cell, area.g), :vertices) AS g
  FROM frame, area, generate_series(0, frame.nx) AS i, generate_series(0, frame.ny) AS j,
       LATERAL ST_MakeEnvelope(x0 + i * :tile_m, y0 + j * :tile_m,
                               x0 + (i + 1) * :tile_m, y0 + (j + 1) * :tile_m, :srid) AS cell
  WHERE ST_Intersects(cell, area.g)
),
pieces AS MATERIALIZED (
  SELECT row_number() OVER () AS tid, i, j, g,
         ST_Area(g) >= :tile_m * :tile_m * (1 - 1e-9) AS whole
  FROM tiles WHERE ST_Dimension(g) = 2
),
views AS MATERIALIZED (
  SELECT v.id, v.assumed, v.owner_kind, v.purpose, v.convex AND NOT :obstacles AS convex,
         CASE WHEN :obstacles THEN coalesce(ST_Difference(v.geom, (
             SELECT ST_Union(ST_Transform(o.geom, :srid)) FROM obstacles o
             WHERE o.geom && ST_Transform(ST_Envelope(v.geom), 4326))), v.geom)
           ELSE v.geom END AS geom
  FROM area, LATERAL (
    SELECT cameras.id, cameras.fov IS NULL AS assumed, organizations.kind AS owner_kind,
           cameras.purpose,
           -- circles and sectors up to 180° are convex: a box clips them exactly
           (cameras.fov IS NULL OR cameras.ptz OR cameras.fov_deg IS NULL
            OR cameras.fov_deg <= 180 OR cameras.fov_deg >= 360) AS convex,
           CASE WHEN cameras.fov IS NOT NULL THEN ST_Transform(cameras.fov, :srid)
                ELSE ST_Buffer(ST_Transform(cameras.location, :srid),
                               coalesce(cameras.range_m, :default_range), :quad_segs)
           END AS geom
    FROM cameras JOIN organizations ON organizations.id = cameras.owner_id
    WHERE cameras.location && area.near
      AND cameras.status <> :decommissioned AND {visible}
  ) v
  WHERE ST_Intersects(v.geom, area.g)
),
cells AS MATERIALIZED (
  SELECT i, j, owner_kind, purpose, clipped AS geom
  FROM views, frame,
       generate_series(floor((ST_XMin(views.geom) - x0) / :tile_m)::int,
                       floor((ST_XMax(views.geom) - x0) / :tile_m)::int) AS i,
       generate_series(floor((ST_YMin(views.geom) - y0) / :tile_m)::int,
                       floor((ST_YMax(views.geom) - y0) / :tile_m)::int) AS j,
       LATERAL ST_MakeEnvelope(x0 + i * :tile_m, y0 + j * :tile_m,
                               x0 + (i + 1) * :tile_m, y0 + (j + 1) * :tile_m, :srid) AS box,
       LATERAL (SELECT CASE WHEN views.convex THEN ST_ClipByBox2D(views.geom, box)
                            ELSE ST_Intersection(views.geom, box) END AS clipped) c
  WHERE ST_Dimension(clipped) = 2
),
member AS MATERIALIZED (
  SELECT i, j, 'owner_kind:' || owner_kind AS grp, 'kind' AS axis, geom FROM cells
  UNION ALL
  SELECT i, j, 'purpose:' || purpose, 'purpose', geom FROM cells
),
sizes AS MATERIALIZED (
  SELECT i, j, grp, axis, count(*) AS n FROM member GROUP BY i, j, grp, axis
),
-- A purpose holding every view of its tile covers what the whole tile's views cover: it takes
-- the tile's union instead of computing it again.
whole AS (
  SELECT s.i, s.j, s.grp, s.n = t.n AS same
  FROM sizes s JOIN (SELECT i, j, count(*) AS n FROM cells GROUP BY i, j) t
    ON t.i = s.i AND t.j = s.j
  WHERE s.axis = 'purpose'
),
kinds AS MATERIALIZED (
  SELECT i, j, grp, ST_Union(geom) AS geom FROM member WHERE axis = 'kind'
  GROUP BY i, j, grp
),
-- Everything a tile's cameras see is the union of the few owner-kind unions, far cheaper than
-- a union of every view again.
alls AS MATERIALIZED (
  SELECT i, j, :all AS grp, ST_Union(geom) AS geom FROM kinds GROUP BY i, j
),
purposes AS MATERIALIZED (
  SELECT member.i, member.j, member.grp, ST_Union(member.geom) AS geom
  FROM member JOIN whole ON whole.i = member.i AND whole.j = member.j
                        AND whole.grp = member.grp AND NOT whole.same
  GROUP BY member.i, member.j, member.grp
  UNION ALL
  SELECT whole.i, whole.j, whole.grp, alls.geom
  FROM whole JOIN alls ON alls.i = whole.i AND alls.j = whole.j
  WHERE whole.same
),
every AS (
  SELECT i, j, grp, geom FROM kinds
  UNION ALL
  SELECT i, j, grp, geom FROM alls
  UNION ALL
  SELECT i, j, grp, geom FROM purposes
  UNION ALL
  SELECT i, j, :shareable, ST_Union(geom) FROM purposes
  WHERE grp IN ('purpose:' || :crime, 'purpose:' || :parking)
  GROUP BY i, j
),
clipped AS MATERIALIZED (
  SELECT pieces.tid, every.grp,
         CASE WHEN pieces.whole THEN every.geom ELSE ST_Intersection(every.geom, pieces.g) END
           AS u
  FROM every JOIN pieces ON pieces.i = every.i AND pieces.j = every.j
),
gaps AS (
  SELECT (ST_Dump(coalesce(ST_Difference(pieces.g, clipped.u), pieces.g))).geom AS g
  FROM pieces LEFT JOIN clipped ON clipped.tid = pieces.tid AND clipped.grp = :all
),
-- The gaps go straight into the cache entry the caller has just added (same transaction).
stored AS (
  INSERT INTO coverage_gaps (id, cache_id, geom, area_m2)
  SELECT gen_random_uuid(), :cache_id, ST_Transform(g, 4326), ST_Area(g)
  FROM gaps WHERE ST_Dimension(g) = 2 AND ST_Area(g) >= :min_gap_m2
  RETURNING area_m2
)
SELECT 'area' AS row, grp, sum(ST_Area(u)) AS m2, NULL::uuid[] AS ids, NULL::bigint AS n
FROM clipped GROUP BY grp
UNION ALL
SELECT 'total', NULL, (SELECT ST_Area(g) FROM area), NULL, NULL
UNION ALL
SELECT 'cameras', NULL, NULL, (array_agg(id ORDER BY id) FILTER (WHERE assumed))[1:100],
       count(*)
FROM views
UNION ALL
SELECT 'assumed', NULL, NULL, NULL, count(*) FROM views WHERE assumed
UNION ALL
SELECT 'gaps', NULL, sum(area_m2), NULL, count(*) FROM stored
"""


@dataclass(frozen=True)
class Measured:
    area_m2: float
    covered_m2: dict[str, float]  # by group: "all", "owner_kind:<k>", "purpose:<p>", ...
    cameras: int
    assumed_count: int
    assumed_ids: list[uuid.UUID]
    gaps: int  # polygons written to coverage_gaps
    gap_m2: float


def visible_clause(scope: uuid.UUID | None) -> str:
    """SQL on `cameras`: a business counts its own cameras; node-wide callers those on the map.
    Rendered with literal values (a UUID and fixed enum names, never user text)."""
    if scope is not None:
        return f"cameras.owner_id = '{uuid.UUID(str(scope))}'"
    clause = permits_clause(Use.MAP)
    compiled = clause.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    return str(compiled)


def measure(
    session: Session,
    area: str,
    *,
    cache_id: uuid.UUID,
    srid: int,
    scope: uuid.UUID | None,
    obstacles: bool,
    tile_m: float,
    default_range_m: float,
    reach_m: float,
    min_gap_m2: float = 0.01,
) -> Measured:
    """Coverage figures; the gap polygons are written to coverage_gaps under `cache_id`, a
    coverage_cache row the caller has added in this transaction."""
    params: dict[str, Any] = {
        "area": area,
        "srid": srid,
        "tile_m": tile_m,
        "vertices": SUBDIVIDE_VERTICES,
        "obstacles": obstacles,
        "default_range": default_range_m,
        "quad_segs": QUAD_SEGS,
        # how far around the area a camera can stand and still see into it; a degree of
        # longitude shrinks with latitude: 2x covers anything up to 60°
        "reach_deg": 2 * reach_m / 111_000,
        "decommissioned": CameraStatus.DECOMMISSIONED.value,
        "all": ALL,
        "crime": CameraPurpose.CRIME_PREVENTION.value,
        "parking": CameraPurpose.PARKING_ENFORCEMENT.value,
        "shareable": SHAREABLE,
        "min_gap_m2": min_gap_m2,
        "cache_id": cache_id,
    }
    sql = text(_SQL.format(visible=visible_clause(scope)))
    # The planner's estimates for set-returning geometry functions are huge, which triggers JIT
    # compilation: about a second of compiling for a query that then runs in less.
    session.execute(text("SET LOCAL jit = off"))
    # The views are sorted by tile and group before the unions: in memory, not on disk.
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    covered: dict[str, float] = {}
    area_m2, cameras, assumed_count, assumed_ids, gaps, gap_m2 = 0.0, 0, 0, [], 0, 0.0
    for row in session.execute(sql, params):
        if row.row == "area":
            covered[row.grp] = float(row.m2 or 0.0)
        elif row.row == "total":
            area_m2 = float(row.m2 or 0.0)
        elif row.row == "cameras":
            cameras = int(row.n or 0)
            assumed_ids = sorted(row.ids or [])
        elif row.row == "assumed":
            assumed_count = int(row.n or 0)
        else:
            gaps, gap_m2 = int(row.n or 0), float(row.m2 or 0.0)
    return Measured(area_m2, covered, cameras, assumed_count, assumed_ids, gaps, gap_m2)
