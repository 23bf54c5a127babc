"""Camera events: normalized events taken in from the cameras' own analytics.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_KINDS = (
    "motion",
    "line_crossing",
    "intrusion",
    "tamper",
    "person",
    "vehicle",
    "unknown",
)


def upgrade() -> None:
    op.create_table(
        "camera_events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("camera_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *EVENT_KINDS,
                name="event_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("initial", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=1000), nullable=False),
        sa.Column(
            "subject",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_camera_events_camera_occurred",
        "camera_events",
        ["camera_id", sa.text("occurred_at DESC"), sa.text("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_camera_events_unpublished",
        "camera_events",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_camera_events_unpublished", table_name="camera_events")
    op.drop_index("ix_camera_events_camera_occurred", table_name="camera_events")
    op.drop_table("camera_events")
