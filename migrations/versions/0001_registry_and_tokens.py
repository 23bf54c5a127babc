"""Registry (organizations, cameras with GiST-indexed geometry) and API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 05:34:52.286017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "organizations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "municipality",
                "district",
                "regional_centre",
                "national_agency",
                "police",
                "operator",
                "private_business",
                name="organization_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "jurisdiction",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_index(
        "ix_organizations_jurisdiction",
        "organizations",
        ["jurisdiction"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "operator",
                "planner",
                "business",
                name="token_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("organization_id", sa.UUID(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "cameras",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "purpose",
            sa.Enum(
                "crime_prevention",
                "traffic",
                "parking_enforcement",
                "child_safety",
                "disaster",
                "private_premises",
                "other",
                name="camera_purpose",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("legal_basis", sa.String(length=500), nullable=True),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("fov_deg", sa.Float(), nullable=True),
        sa.Column("range_m", sa.Float(), nullable=True),
        sa.Column("mount_height_m", sa.Float(), nullable=True),
        sa.Column("ptz", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("vendor", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("firmware", sa.String(length=100), nullable=True),
        sa.Column("install_year", sa.Integer(), nullable=True),
        sa.Column("ai_capable", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "adapter",
            sa.Enum(
                "onvif",
                "rtsp",
                "vlc",
                "http_snapshot",
                "none",
                name="adapter_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("stream_uri", sa.Text(), nullable=True),
        sa.Column("snapshot_uri", sa.Text(), nullable=True),
        sa.Column("credentials_sealed", sa.LargeBinary(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "unknown",
                "online",
                "offline",
                "degraded",
                "tampered",
                "decommissioned",
                name="camera_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("units", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "fov",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["organizations.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_cameras_fov",
        "cameras",
        ["fov"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_cameras_location",
        "cameras",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_cameras_location_geog",
        "cameras",
        [sa.literal_column("(location::geography)")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index("ix_cameras_owner_id", "cameras", ["owner_id"], unique=False)
    op.create_index(
        "uq_cameras_owner_external_id",
        "cameras",
        ["owner_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_cameras_owner_external_id",
        table_name="cameras",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_cameras_owner_id", table_name="cameras")
    op.drop_index("ix_cameras_location_geog", table_name="cameras", postgresql_using="gist")
    op.drop_index("ix_cameras_location", table_name="cameras", postgresql_using="gist")
    op.drop_index("ix_cameras_fov", table_name="cameras", postgresql_using="gist")
    op.drop_table("cameras")
    op.drop_table("api_tokens")
    op.drop_index(
        "ix_organizations_jurisdiction",
        table_name="organizations",
        postgresql_using="gist",
    )
    op.drop_table("organizations")
