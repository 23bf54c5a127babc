"""Plate reads (partitioned by time), hotlists and alerts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = ("wanted", "stolen", "watched", "emergency", "municipal_fleet", "resident_exempt")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


# Daily partitions of plate_reads, created ahead by hub.plates.store.ensure_partitions (and by
# store_read for a day not yet there). Bounds are UTC days; the name carries the day.
PARTITION_FUNCTION = """
CREATE OR REPLACE FUNCTION c4hub_plate_reads_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  name text := 'plate_reads_p' || to_char(day, 'YYYYMMDD');
BEGIN
  IF to_regclass(name) IS NULL THEN
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF plate_reads FOR VALUES FROM (%L) TO (%L)',
      name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
  END IF;
  RETURN name;
END $$
"""

PLATE_READS = """
CREATE TABLE plate_reads (
  read_at timestamptz NOT NULL,
  id uuid NOT NULL,
  camera_id uuid NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
  plate varchar(16) NOT NULL,
  plate_key varchar(16) NOT NULL,
  raw_text varchar(32),
  confidence float8 NOT NULL,
  region varchar(16),
  vehicle_class varchar(32) CONSTRAINT object_class CHECK (vehicle_class IN
    ('person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck')),
  colour varchar(32) CONSTRAINT vehicle_colour CHECK (colour IN ('white', 'silver', 'grey',
    'black', 'red', 'blue', 'green', 'yellow', 'orange', 'brown')),
  direction varchar(32) CONSTRAINT direction CHECK (direction IN ('forward', 'backward')),
  track_id integer,
  box jsonb,
  evidence varchar(500),
  location geometry(Point, 4326),
  enforcement_exempt boolean NOT NULL DEFAULT false,
  PRIMARY KEY (read_at, id)
) PARTITION BY RANGE (read_at)
"""

PLATE_READ_INDEXES = (
    "CREATE INDEX ix_plate_reads_plate ON plate_reads (plate, read_at DESC)",
    "CREATE INDEX ix_plate_reads_key ON plate_reads (plate_key, read_at DESC)",
    "CREATE INDEX ix_plate_reads_camera ON plate_reads (camera_id, read_at DESC)",
    "CREATE INDEX ix_plate_reads_location ON plate_reads USING gist (location)",
    "CREATE INDEX ix_plate_reads_plate_trgm ON plate_reads USING gin (plate gin_trgm_ops)",
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(PLATE_READS)
    for statement in PLATE_READ_INDEXES:
        op.execute(statement)
    op.execute(PARTITION_FUNCTION)
    # today and the week ahead; the beat job (or the first read of a day) adds the rest
    op.execute(
        "SELECT c4hub_plate_reads_partition(current_date + d) FROM generate_series(-1, 7) AS d"
    )
    op.create_table(
        "hotlist_entries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("kind", _enum("list_kind", "black", "white"), nullable=False),
        sa.Column("category", _enum("hotlist_category", *CATEGORIES), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("tolerance", _enum("hotlist_tolerance", "exact", "confusable"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hotlist_entries_key", "hotlist_entries", ["key"])
    op.create_index("ix_hotlist_entries_source", "hotlist_entries", ["source"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", _enum("alert_kind", "hotlist_match"), nullable=False),
        sa.Column("state", _enum("alert_state", "open", "acknowledged"), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("camera_id", sa.UUID(), nullable=False),
        sa.Column("read_id", sa.UUID(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=True),
        sa.Column("entry_id", sa.UUID(), nullable=True),
        sa.Column("entry_plate", sa.String(length=16), nullable=False),
        sa.Column("category", _enum("hotlist_category", *CATEGORIES), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entry_id"], ["hotlist_entries.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_created", "alerts", [sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_index(
        "ix_alerts_open", "alerts", ["created_at"], postgresql_where=sa.text("state = 'open'")
    )
    op.create_index("uq_alerts_read_entry", "alerts", ["read_id", "entry_id"], unique=True)
    op.create_index("ix_alerts_entry_id", "alerts", ["entry_id"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("hotlist_entries")
    op.execute("DROP TABLE plate_reads")  # its partitions go with it
    op.execute("DROP FUNCTION c4hub_plate_reads_partition(date)")
