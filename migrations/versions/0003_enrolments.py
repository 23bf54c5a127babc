"""Enrolments of private cameras: submissions, consent tiers, review.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIERS = ("registry_only", "on_request", "live_on_alarm", "live_always")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "enrolments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("camera_id", sa.UUID(), nullable=False),
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column(
            "state",
            _enum("enrolment_state", "submitted", "approved", "rejected", "withdrawn"),
            nullable=False,
        ),
        sa.Column("consent_tier", _enum("consent_tier", *TIERS), nullable=False),
        sa.Column("requested_tier", _enum("requested_tier", *TIERS), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column(
            "privacy_masks",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.UUID(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("probe_job_id", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["probe_job_id"], ["probe_jobs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("camera_id"),
    )
    op.create_index("ix_enrolments_org_id", "enrolments", ["org_id"], unique=False)
    op.create_index("ix_enrolments_state", "enrolments", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_enrolments_state", table_name="enrolments")
    op.drop_index("ix_enrolments_org_id", table_name="enrolments")
    op.drop_table("enrolments")
