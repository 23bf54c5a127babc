"""Registry tables: organizations and the cameras they own."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus, OrganizationKind


def str_enum(cls: type[StrEnum], name: str) -> Enum:
    """Enums stored as checked VARCHAR, so adding a value is a plain migration."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganizationKind] = mapped_column(str_enum(OrganizationKind, "organization_kind"))
    jurisdiction: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_organizations_jurisdiction", "jurisdiction", postgresql_using="gist"),
    )


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    external_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[CameraPurpose] = mapped_column(str_enum(CameraPurpose, "camera_purpose"))
    legal_basis: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    heading_deg: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float | None] = mapped_column(Float)
    mount_height_m: Mapped[float | None] = mapped_column(Float)
    ptz: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    vendor: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    firmware: Mapped[str | None] = mapped_column(String(100))
    install_year: Mapped[int | None] = mapped_column(Integer)
    ai_capable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    adapter: Mapped[AdapterKind] = mapped_column(str_enum(AdapterKind, "adapter_kind"))
    stream_uri: Mapped[str | None] = mapped_column(Text)
    snapshot_uri: Mapped[str | None] = mapped_column(Text)
    # The ONVIF device service URL: probes and events go there, whatever stream_uri becomes.
    device_uri: Mapped[str | None] = mapped_column(Text)
    # What the last successful probe found: capabilities (schemas.adapters.Capability values)
    # and the stream profiles, as CameraDescription serializes them.
    capabilities: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    streams: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    credentials_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[CameraStatus] = mapped_column(str_enum(CameraStatus, "camera_status"))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retention_days: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    units: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    fov: Mapped[WKBElement | None] = mapped_column(
        Geometry("POLYGON", srid=4326, spatial_index=False), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        Index("ix_cameras_location", "location", postgresql_using="gist"),
        Index(
            "ix_cameras_location_geog",
            text("(location::geography)"),
            postgresql_using="gist",
        ),
        Index("ix_cameras_fov", "fov", postgresql_using="gist"),
        Index("ix_cameras_owner_id", "owner_id"),
        Index(
            "uq_cameras_owner_external_id",
            "owner_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )
