"""Camera health: current state per camera and the history of state changes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("unknown", "online", "offline", "degraded", "tampered", "decommissioned")


def _status(name: str) -> sa.Enum:
    return sa.Enum(*STATUSES, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "camera_health",
        sa.Column("camera_id", sa.UUID(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", _status("health_status"), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("candidate", _status("health_candidate"), nullable=True),
        sa.Column("candidate_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("candidate_checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_check", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("baseline_sharpness", sa.Float(), nullable=True),
        sa.Column("reference_signature", sa.LargeBinary(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("camera_id"),
    )
    op.create_index(
        "ix_camera_health_due",
        "camera_health",
        ["next_check_at"],
        postgresql_where=sa.text("enabled"),
    )
    op.create_table(
        "health_events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("camera_id", sa.UUID(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous", _status("health_previous"), nullable=False),
        sa.Column("status", _status("health_status"), nullable=False),
        sa.Column(
            "findings", postgresql.ARRAY(sa.String(length=32)), server_default="{}", nullable=False
        ),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_health_events_camera_time",
        "health_events",
        ["camera_id", sa.text("occurred_at DESC")],
    )
    op.create_index("ix_health_events_time", "health_events", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_health_events_time", table_name="health_events")
    op.drop_index("ix_health_events_camera_time", table_name="health_events")
    op.drop_table("health_events")
    op.drop_index("ix_camera_health_due", table_name="camera_health")
    op.drop_table("camera_health")
