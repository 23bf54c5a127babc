"""Coverage computed in parallel: the work tables and the per-block function that
hub.coverage.compute shares out over PostgreSQL's parallel workers.

A coverage run writes its area, its blocks of tiles and the cameras near each block into the
unlogged work tables, in the caller's transaction; `CREATE TABLE AS` over the blocks then calls
coverage_block on each block in parallel workers. Workers share the caller's transaction, so
they see those uncommitted rows; the run deletes them before it returns, and a rolled-back run
leaves nothing. Unlogged: nothing here needs to survive a crash.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21 13:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    """
    CREATE UNLOGGED TABLE coverage_work_runs (
        run uuid PRIMARY KEY,
        area geometry NOT NULL,
        x0 float8 NOT NULL,
        y0 float8 NOT NULL,
        tile_m float8 NOT NULL,
        block int NOT NULL,
        vertices int NOT NULL,
        default_range_m float8 NOT NULL,
        quad_segs int NOT NULL,
        obstacles boolean NOT NULL,
        pooled text[] NOT NULL,
        min_gap_m2 float8 NOT NULL
    )
    """,
    """
    -- Few rows per page: parallel workers take a page of blocks at a time.
    CREATE UNLOGGED TABLE coverage_work_blocks (
        run uuid NOT NULL, bi int NOT NULL, bj int NOT NULL
    ) WITH (fillfactor = 10, parallel_workers = 2)
    """,
    """
    CREATE UNLOGGED TABLE coverage_work_cameras (
        run uuid NOT NULL, bi int NOT NULL, bj int NOT NULL, camera_id uuid NOT NULL
    )
    """,
    """
    CREATE INDEX ix_coverage_work_cameras ON coverage_work_cameras (run, bi, bj)
    """,
)

# One block of tiles (block x block tiles of tile_m): each view near it projected to the run's
# UTM zone, clipped to each tile, unioned per tile by owner kind, in all, by purpose and for the
# pooled purposes (crime prevention with parking enforcement); obstacles taken out; areas
# summed over the parts of the tiles inside the area; the uncovered parts as gap polygons; and
# the cameras whose view reaches the area. Rows: (grp, m2) areas, (camera, assumed) cameras,
# (m2, gap) gaps in EPSG:4326 with their area in square metres.
BLOCK_FUNCTION = """
CREATE FUNCTION coverage_block(p_run uuid, p_bi int, p_bj int)
RETURNS TABLE (grp text, m2 float8, camera uuid, assumed boolean, gap geometry)
LANGUAGE plpgsql STABLE PARALLEL SAFE COST 100000 ROWS 100 AS $fn$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH r AS MATERIALIZED (
  SELECT w.*, ST_SRID(w.area) AS srid,
         p_bi * w.block AS i0, p_bi * w.block + w.block - 1 AS i1,
         p_bj * w.block AS j0, p_bj * w.block + w.block - 1 AS j1
  FROM coverage_work_runs w WHERE w.run = p_run
),
pieces AS MATERIALIZED (
  SELECT row_number() OVER () AS tid, i, j, g,
         ST_Area(g) >= r.tile_m * r.tile_m * (1 - 1e-9) AS whole
  FROM r, generate_series(r.i0, r.i1) AS i, generate_series(r.j0, r.j1) AS j,
       LATERAL ST_MakeEnvelope(r.x0 + i * r.tile_m, r.y0 + j * r.tile_m,
                               r.x0 + (i + 1) * r.tile_m, r.y0 + (j + 1) * r.tile_m, r.srid)
         AS cell,
       LATERAL ST_Subdivide(CASE WHEN ST_Covers(r.area, cell) THEN cell
                                 ELSE ST_Intersection(cell, r.area) END, r.vertices) AS g
  WHERE ST_Intersects(cell, r.area) AND ST_Dimension(g) = 2
),
views AS MATERIALIZED (
  SELECT v.*, ST_Intersects(v.geom, r.area) AS inside
  FROM r, LATERAL (
    SELECT c.id, c.fov IS NULL AS assumed, o.kind::text AS owner_kind, c.purpose::text AS purpose,
           -- circles and sectors up to 180 degrees are convex: a box clips them exactly
           (c.fov IS NULL OR c.ptz OR c.fov_deg IS NULL OR c.fov_deg <= 180 OR c.fov_deg >= 360)
             AS convex,
           CASE WHEN c.fov IS NOT NULL THEN ST_Transform(c.fov, r.srid)
                ELSE ST_Buffer(ST_Transform(c.location, r.srid),
                               coalesce(c.range_m, r.default_range_m), r.quad_segs)
           END AS geom
    FROM coverage_work_cameras w
         JOIN cameras c ON c.id = w.camera_id
         JOIN organizations o ON o.id = c.owner_id
    WHERE w.run = p_run AND w.bi = p_bi AND w.bj = p_bj
    OFFSET 0  -- project each view once, not once per use
  ) v
),
cells AS MATERIALIZED (
  SELECT i, j, views.owner_kind, views.purpose, c.clipped AS geom
  FROM r, views,
       generate_series(greatest(r.i0, floor((ST_XMin(views.geom) - r.x0) / r.tile_m)::int),
                       least(r.i1, floor((ST_XMax(views.geom) - r.x0) / r.tile_m)::int)) AS i,
       generate_series(greatest(r.j0, floor((ST_YMin(views.geom) - r.y0) / r.tile_m)::int),
                       least(r.j1, floor((ST_YMax(views.geom) - r.y0) / r.tile_m)::int)) AS j,
       LATERAL ST_MakeEnvelope(r.x0 + i * r.tile_m, r.y0 + j * r.tile_m,
                               r.x0 + (i + 1) * r.tile_m, r.y0 + (j + 1) * r.tile_m, r.srid)
         AS box,
       LATERAL (SELECT CASE WHEN views.convex THEN ST_ClipByBox2D(views.geom, box)
                            ELSE ST_Intersection(views.geom, box) END AS clipped) c
  WHERE views.inside AND ST_Dimension(c.clipped) = 2
),
member AS MATERIALIZED (
  SELECT i, j, 'owner_kind:' || owner_kind AS grp, 'kind' AS axis, geom FROM cells
  UNION ALL
  SELECT i, j, 'purpose:' || purpose, 'purpose', geom FROM cells
),
sizes AS MATERIALIZED (
  SELECT m.i, m.j, m.grp, m.axis, count(*) AS n FROM member m GROUP BY m.i, m.j, m.grp, m.axis
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
  SELECT m.i, m.j, m.grp, ST_Union(m.geom) AS geom FROM member m WHERE m.axis = 'kind'
  GROUP BY m.i, m.j, m.grp
),
-- Everything a tile's cameras see is the union of its few owner-kind unions, far cheaper than
-- a union of every view again.
alls AS MATERIALIZED (
  SELECT k.i, k.j, 'all' AS grp, ST_Union(k.geom) AS geom FROM kinds k GROUP BY k.i, k.j
),
purposes AS MATERIALIZED (
  SELECT m.i, m.j, m.grp, ST_Union(m.geom) AS geom
  FROM member m JOIN whole ON whole.i = m.i AND whole.j = m.j
                           AND whole.grp = m.grp AND NOT whole.same
  GROUP BY m.i, m.j, m.grp
  UNION ALL
  SELECT whole.i, whole.j, whole.grp, alls.geom
  FROM whole JOIN alls ON alls.i = whole.i AND alls.j = whole.j
  WHERE whole.same
),
every AS (
  SELECT k.i, k.j, k.grp, k.geom FROM kinds k
  UNION ALL
  SELECT a.i, a.j, a.grp, a.geom FROM alls a
  UNION ALL
  SELECT p.i, p.j, p.grp, p.geom FROM purposes p
  UNION ALL
  SELECT p.i, p.j, 'pooled', ST_Union(p.geom) FROM purposes p, r
  WHERE p.grp IN (SELECT 'purpose:' || unnest(r.pooled))
  GROUP BY p.i, p.j
),
-- Obstacles hide what lies behind them: taken out of each tile's unions.
blocked AS MATERIALIZED (
  SELECT t.i, t.j, ST_Union(ST_Intersection(ST_Transform(o.geom, r.srid), t.box)) AS geom
  FROM r,
       (SELECT DISTINCT p.i, p.j FROM pieces p) t0,
       LATERAL (SELECT t0.i, t0.j,
                       ST_MakeEnvelope(r.x0 + t0.i * r.tile_m, r.y0 + t0.j * r.tile_m,
                                       r.x0 + (t0.i + 1) * r.tile_m,
                                       r.y0 + (t0.j + 1) * r.tile_m, r.srid) AS box) t,
       obstacles o
  WHERE r.obstacles AND o.geom && ST_Transform(t.box, 4326)
  GROUP BY t.i, t.j
),
seen AS MATERIALIZED (
  SELECT e.i, e.j, e.grp,
         CASE WHEN b.geom IS NULL THEN e.geom ELSE ST_Difference(e.geom, b.geom) END AS geom
  FROM every e LEFT JOIN blocked b ON b.i = e.i AND b.j = e.j
)
SELECT s.grp,
       sum(CASE WHEN p.whole THEN ST_Area(s.geom) ELSE ST_Area(ST_Intersection(s.geom, p.g)) END),
       NULL::uuid, NULL::boolean, NULL::geometry
FROM seen s JOIN pieces p ON p.i = s.i AND p.j = s.j
GROUP BY s.grp
UNION ALL
SELECT NULL, NULL, v.id, v.assumed, NULL FROM views v WHERE v.inside
UNION ALL
SELECT NULL, ST_Area(d.geom), NULL, NULL, ST_Transform(d.geom, 4326)
FROM r, pieces p LEFT JOIN seen s ON s.i = p.i AND s.j = p.j AND s.grp = 'all',
     LATERAL ST_Dump(coalesce(ST_Difference(p.g, s.geom), p.g)) AS d
WHERE ST_Dimension(d.geom) = 2 AND ST_Area(d.geom) >= r.min_gap_m2;
END
$fn$
"""


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)
    op.execute(BLOCK_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION coverage_block(uuid, int, int)")
    op.execute("DROP TABLE coverage_work_cameras, coverage_work_blocks, coverage_work_runs")
