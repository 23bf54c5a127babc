"""Coverage planning: demand points, obstacles, the coverage cache and its gaps, and plans of
placement proposals.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 16:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEMAND_KINDS = "'station', 'bus_stop', 'market', 'school', 'scenic', 'parking', 'other'"

STATEMENTS = (
    f"""
    CREATE TABLE demand_points (
      id uuid PRIMARY KEY,
      kind varchar(32) NOT NULL CONSTRAINT demand_kind CHECK (kind IN ({DEMAND_KINDS})),
      name text,
      weight float8 NOT NULL CONSTRAINT demand_weight CHECK (weight > 0),
      geom geometry(Geometry, 4326) NOT NULL,
      source text NOT NULL,
      line integer,
      properties jsonb NOT NULL DEFAULT '{{}}',
      created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX ix_demand_points_geom ON demand_points USING gist (geom)",
    "CREATE INDEX ix_demand_points_kind ON demand_points (kind)",
    """
    CREATE TABLE obstacles (
      id uuid PRIMARY KEY,
      geom geometry(MultiPolygon, 4326) NOT NULL,
      source text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX ix_obstacles_geom ON obstacles USING gist (geom)",
    # One row per (area, options, caller scope); its gaps live in coverage_gaps and go with it.
    """
    CREATE TABLE coverage_cache (
      id uuid PRIMARY KEY,
      key varchar(64) NOT NULL CONSTRAINT uq_coverage_cache_key UNIQUE,
      area geometry(MultiPolygon, 4326) NOT NULL,
      organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
      scope_org_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
      options jsonb NOT NULL,
      result jsonb NOT NULL,
      version text NOT NULL,
      computed_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX ix_coverage_cache_area ON coverage_cache USING gist (area)",
    """
    CREATE TABLE coverage_gaps (
      id uuid PRIMARY KEY,
      cache_id uuid NOT NULL REFERENCES coverage_cache (id) ON DELETE CASCADE,
      geom geometry(Polygon, 4326) NOT NULL,
      area_m2 float8 NOT NULL
    )""",
    "CREATE INDEX ix_coverage_gaps_geom ON coverage_gaps USING gist (geom)",
    "CREATE INDEX ix_coverage_gaps_cache_id ON coverage_gaps (cache_id)",
    """
    CREATE TABLE planning_plans (
      id uuid PRIMARY KEY,
      created_at timestamptz NOT NULL DEFAULT now(),
      area geometry(MultiPolygon, 4326),
      params jsonb NOT NULL DEFAULT '{}',
      totals jsonb NOT NULL DEFAULT '{}'
    )""",
    """
    CREATE TABLE planning_proposals (
      id uuid PRIMARY KEY,
      plan_id uuid NOT NULL REFERENCES planning_plans (id) ON DELETE CASCADE,
      rank integer NOT NULL,
      action varchar(16) NOT NULL CONSTRAINT proposal_action CHECK (action IN ('new', 'relocate')),
      camera_id uuid REFERENCES cameras (id) ON DELETE SET NULL,
      site geometry(Point, 4326) NOT NULL,
      heading_deg float8,
      fov_deg float8,
      range_m float8 NOT NULL,
      gain_area_m2 float8,
      gain_demand float8,
      saved_cost float8,
      properties jsonb NOT NULL DEFAULT '{}',
      CONSTRAINT uq_planning_proposals_plan_rank UNIQUE (plan_id, rank)
    )""",
    "CREATE INDEX ix_planning_proposals_site ON planning_proposals USING gist (site)",
    # The registry version cached coverage is checked against: bumped by every change that can
    # alter a coverage. A sequence, because its value is seen at once by every session (and a
    # rolled-back bump costs only a needless recomputation). Health checks that only change a
    # camera's status or last_seen_at leave it alone, or the cache would never be current.
    "CREATE SEQUENCE coverage_registry_version",
    """
    CREATE FUNCTION c4hub_bump_coverage_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM nextval('coverage_registry_version');
      RETURN NULL;
    END $$""",
    """
    CREATE TRIGGER coverage_cameras_added_or_removed
    AFTER INSERT OR DELETE OR TRUNCATE ON cameras
    FOR EACH STATEMENT EXECUTE FUNCTION c4hub_bump_coverage_version()""",
    """
    CREATE TRIGGER coverage_cameras_changed
    AFTER UPDATE ON cameras FOR EACH ROW
    WHEN (OLD.fov IS DISTINCT FROM NEW.fov
          OR OLD.location IS DISTINCT FROM NEW.location
          OR OLD.range_m IS DISTINCT FROM NEW.range_m
          OR OLD.owner_id IS DISTINCT FROM NEW.owner_id
          OR OLD.purpose IS DISTINCT FROM NEW.purpose
          OR (OLD.status = 'decommissioned') <> (NEW.status = 'decommissioned'))
    EXECUTE FUNCTION c4hub_bump_coverage_version()""",
    """
    CREATE TRIGGER coverage_owner_kind_changed
    AFTER UPDATE OF kind ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION c4hub_bump_coverage_version()""",
    """
    CREATE TRIGGER coverage_obstacles_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON obstacles
    FOR EACH STATEMENT EXECUTE FUNCTION c4hub_bump_coverage_version()""",
)

TABLES = (
    "planning_proposals",
    "planning_plans",
    "coverage_gaps",
    "coverage_cache",
    "obstacles",
    "demand_points",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER coverage_cameras_added_or_removed ON cameras")
    op.execute("DROP TRIGGER coverage_cameras_changed ON cameras")
    op.execute("DROP TRIGGER coverage_owner_kind_changed ON organizations")
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION c4hub_bump_coverage_version()")
    op.execute("DROP SEQUENCE coverage_registry_version")
