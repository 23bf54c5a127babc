"""Cameras: the ONVIF device service URL, kept apart from the stream a probe writes.

Cameras registered with the device service URL as stream_uri (adapter onvif) get it copied
into device_uri, so their next probe still finds the device service.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cameras", sa.Column("device_uri", sa.Text(), nullable=True))
    op.execute(
        "UPDATE cameras SET device_uri = stream_uri "
        "WHERE adapter = 'onvif' AND stream_uri ~ '^https?://'"
    )


def downgrade() -> None:
    op.drop_column("cameras", "device_uri")
