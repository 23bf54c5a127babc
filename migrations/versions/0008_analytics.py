"""Analytics settings per camera; camera_events accepts the analytics event kinds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "motion",
    "line_crossing",
    "intrusion",
    "tamper",
    "person",
    "vehicle",
    "unknown",
)
AFTER = (*BEFORE[:-1], "loitering", "missing_object", "crowding", "plate", "unknown")


def _kinds(values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    op.drop_constraint("event_kind", "camera_events", type_="check")
    op.create_check_constraint("event_kind", "camera_events", f"kind IN ({listed})")


def upgrade() -> None:
    op.create_table(
        "camera_analytics",
        sa.Column("camera_id", sa.UUID(), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("camera_id"),
    )
    _kinds(AFTER)


def downgrade() -> None:
    op.execute(f"DELETE FROM camera_events WHERE kind NOT IN {BEFORE!r}")
    _kinds(BEFORE)
    op.drop_table("camera_analytics")
