"""The coverage of one area, computed in PostGIS and shared out over PostgreSQL's parallel
workers.

The area is projected to its UTM zone (metres) and cut into square tiles of
C4HUB_COVERAGE_TILE_M, anchored at the area's south-west corner (an area smaller than a tile is
one tile), grouped in blocks of BLOCK_TILES x BLOCK_TILES tiles. The caller's transaction files
the run, the blocks that hold part of the area, and each camera the caller may count under every
block its view can reach (unlogged work tables, migration 0013). `CREATE TABLE AS` over the
blocks then runs `coverage_block` (the same migration) on each block in a parallel worker:
workers share the caller's transaction, so they see its uncommitted rows, and CREATE TABLE AS is
the one write PostgreSQL lets use a parallel plan. Per block: each view is projected once,
clipped to each tile (ST_ClipByBox2D where it is convex) and unioned per tile and owner kind; a
tile's whole coverage is the union of its few owner-kind unions, and crime prevention plus
parking enforcement the union of those two purposes' unions; obstacles are taken out of the
unions; only tiles on the area's border, split by ST_Subdivide, are intersected with it. Unions
of a few dozen simple polygons per tile stay cheap where one union over a city's cameras would
not.

Gaps are cut at tile borders: each gap polygon is the part of a tile no camera sees, small
enough to page through and draw (a city-wide gap with ten thousand holes would be one feature
no client can use). A GIS dissolves them if it needs to. The caller's transaction writes them to
coverage_gaps and empties the work tables, so a result is stored whole or not at all.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from hub.coverage.sectors import QUAD_SEGS
from hub.enrolment.rules import Use
from hub.enrolment.service import permits_clause
from hub.registry.models import Camera
from schemas.enums import CameraPurpose, CameraStatus

ALL = "all"
SHAREABLE = "crime_or_parking"  # crime prevention plus parking enforcement, if it were shared
SUBDIVIDE_VERTICES = 64
BLOCK_TILES = 4

# The run: the area projected, its grid and the options coverage_block reads.
_RUN_SQL = """
INSERT INTO coverage_work_runs (run, area, x0, y0, tile_m, block, vertices, default_range_m,
                                quad_segs, obstacles, pooled, min_gap_m2)
SELECT :run, g, ST_XMin(g), ST_YMin(g), :tile_m, :block, :vertices, :default_range, :quad_segs,
       :obstacles, :pooled, :min_gap_m2
FROM (SELECT ST_Transform(CAST(:area AS geometry), :srid) AS g) a
RETURNING ST_Area(area) AS m2,
          floor((ST_XMax(area) - x0) / (tile_m * block))::int AS nx,
          floor((ST_YMax(area) - y0) / (tile_m * block))::int AS ny
"""

# The blocks of tiles that hold part of the area.
_BLOCKS_SQL = """
INSERT INTO coverage_work_blocks (run, bi, bj)
SELECT r.run, bi, bj
FROM coverage_work_runs r, generate_series(0, :nx) AS bi, generate_series(0, :ny) AS bj,
     LATERAL (SELECT r.tile_m * r.block AS side) b
WHERE r.run = :run
  AND ST_Intersects(ST_MakeEnvelope(r.x0 + bi * b.side, r.y0 + bj * b.side,
                                    r.x0 + (bi + 1) * b.side, r.y0 + (bj + 1) * b.side,
                                    ST_SRID(r.area)), r.area)
"""

# The cameras the caller may count, filed under every block their view's bounding box can
# reach (grid arithmetic on the projected location and range, or the view's projected corners,
# with a metre to spare); coverage_block projects and clips the views.
_CAMERAS_SQL = """
WITH r AS (
  SELECT run, x0, y0, tile_m * block AS side, ST_SRID(area) AS srid, default_range_m,
         ST_Expand(ST_Envelope(CAST(:area AS geometry)), :reach_deg) AS near
  FROM coverage_work_runs WHERE run = :run
),
near AS (
  SELECT cameras.id,
         CASE WHEN cameras.fov IS NOT NULL
              THEN ST_Expand(ST_Transform(ST_Envelope(cameras.fov), r.srid)::box2d, 1)
              ELSE ST_Expand(ST_Transform(cameras.location, r.srid)::box2d,
                             coalesce(cameras.range_m, r.default_range_m) + 1)
         END AS box
  FROM r, cameras
  WHERE cameras.location && r.near AND cameras.status <> :decommissioned AND ({visible})
)
INSERT INTO coverage_work_cameras (run, bi, bj, camera_id)
SELECT r.run, bi, bj, near.id
FROM r, near,
     generate_series(floor((ST_XMin(near.box) - r.x0) / r.side)::int,
                     floor((ST_XMax(near.box) - r.x0) / r.side)::int) AS bi,
     generate_series(floor((ST_YMin(near.box) - r.y0) / r.side)::int,
                     floor((ST_YMax(near.box) - r.y0) / r.side)::int) AS bj
"""

# The parallel step: PostgreSQL's workers share the caller's transaction, so they see the work
# rows written above; CREATE TABLE AS is the one write that may use a parallel plan.
_BLOCK_RESULTS_SQL = """
CREATE TEMP TABLE coverage_block_results ON COMMIT DROP AS
SELECT r.grp, r.m2, r.camera, r.assumed, r.gap
FROM coverage_work_blocks b, LATERAL coverage_block(b.run, b.bi, b.bj) r
WHERE b.run = '{run}'
"""

_STORE_SQL = """
WITH stored AS (
  INSERT INTO coverage_gaps (id, cache_id, geom, area_m2)
  SELECT gen_random_uuid(), :cache_id, gap, m2 FROM coverage_block_results WHERE gap IS NOT NULL
  RETURNING area_m2
),
seen AS (
  SELECT DISTINCT camera, assumed FROM coverage_block_results WHERE camera IS NOT NULL
)
SELECT 'area' AS row, grp, sum(m2) AS m2, NULL::bigint AS n, NULL::uuid[] AS ids
FROM coverage_block_results WHERE grp IS NOT NULL GROUP BY grp
UNION ALL
SELECT 'gaps', NULL, sum(area_m2), count(*), NULL FROM stored
UNION ALL
SELECT 'cameras', NULL, NULL, count(*), NULL FROM seen
UNION ALL
SELECT 'assumed', NULL, NULL, count(*), (array_agg(camera ORDER BY camera))[1:100]
FROM seen WHERE assumed
"""

# Workers take blocks a page at a time (the blocks table keeps few rows per page); the planner
# is told that starting them costs nothing against the unions they share out. The leader only
# gathers: were it to take blocks too, it would compete with the workers for the cores and
# keep the last of its blocks while they wait.
_PARALLEL_SETTINGS = (
    "SET LOCAL parallel_setup_cost = 0",
    "SET LOCAL parallel_tuple_cost = 0",
    "SET LOCAL parallel_leader_participation = off",
    # Gap polygons are large: lz4 compresses them for the results table and coverage_gaps at a
    # fraction of pglz's cost.
    "SET LOCAL default_toast_compression = lz4",
)
_GROUPS = {"pooled": SHAREABLE}

_CLEAN_SQL = (
    "DROP TABLE coverage_block_results",
    "DELETE FROM coverage_work_cameras WHERE run = :run",
    "DELETE FROM coverage_work_blocks WHERE run = :run",
    "DELETE FROM coverage_work_runs WHERE run = :run",
)


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
    Rendered with literal values (a UUID and fixed enum names, never user text). The consent
    rule is rendered as a whole SELECT so its subqueries stay correlated with their camera."""
    if scope is not None:
        return f"cameras.owner_id = '{uuid.UUID(str(scope))}'"
    permitted = select(Camera.id).where(permits_clause(Use.MAP))
    compiled = permitted.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    return f"cameras.id IN ({compiled})"


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
    run = uuid.uuid4()
    # The planner's estimates for set-returning geometry functions are huge, which triggers JIT
    # compilation: about a second of compiling for a query that then runs in less.
    session.execute(text("SET LOCAL jit = off"))
    for setting in _PARALLEL_SETTINGS:
        session.execute(text(setting))
    pooled = [CameraPurpose.CRIME_PREVENTION.value, CameraPurpose.PARKING_ENFORCEMENT.value]
    frame = session.execute(
        text(_RUN_SQL),
        {
            "run": run,
            "area": area,
            "srid": srid,
            "tile_m": tile_m,
            "block": BLOCK_TILES,
            "vertices": SUBDIVIDE_VERTICES,
            "default_range": default_range_m,
            "quad_segs": QUAD_SEGS,
            "obstacles": obstacles,
            "pooled": pooled,
            "min_gap_m2": min_gap_m2,
        },
    ).one()
    session.execute(text(_BLOCKS_SQL), {"run": run, "nx": frame.nx, "ny": frame.ny})
    session.execute(
        text(_CAMERAS_SQL.format(visible=visible_clause(scope))),
        {
            "run": run,
            "area": area,
            # how far around the area a camera can stand and still see into it; a degree of
            # longitude shrinks with latitude: 2x covers anything up to 60°
            "reach_deg": 2 * reach_m / 111_000,
            "decommissioned": CameraStatus.DECOMMISSIONED.value,
        },
    )
    session.execute(text(_BLOCK_RESULTS_SQL.format(run=uuid.UUID(str(run)))))
    covered: dict[str, float] = {}
    cameras, assumed_count, assumed_ids, gaps, gap_m2 = 0, 0, [], 0, 0.0
    for row in session.execute(text(_STORE_SQL), {"cache_id": cache_id}):
        if row.row == "area":
            covered[_GROUPS.get(row.grp, row.grp)] = float(row.m2 or 0.0)
        elif row.row == "gaps":
            gaps, gap_m2 = int(row.n or 0), float(row.m2 or 0.0)
        elif row.row == "cameras":
            cameras = int(row.n or 0)
        else:
            assumed_count, assumed_ids = int(row.n or 0), sorted(row.ids or [])
    for statement in _CLEAN_SQL:
        session.execute(text(statement), {"run": run})
    return Measured(float(frame.m2), covered, cameras, assumed_count, assumed_ids, gaps, gap_m2)
