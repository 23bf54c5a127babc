"""Coverage planning tables: demand, obstacles, cached coverage results, placement plans.

Created by migration 0011. Planning plans and proposals are written by hub.planning (P2).
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.registry.models import str_enum


class DemandKind(StrEnum):
    STATION = "station"
    BUS_STOP = "bus_stop"
    MARKET = "market"
    SCHOOL = "school"
    SCENIC = "scenic"
    PARKING = "parking"
    OTHER = "other"


class ProposalAction(StrEnum):
    NEW = "new"
    RELOCATE = "relocate"


class DemandPoint(Base):
    """A place people need watched: a point, or an area (Polygon/MultiPolygon)."""

    __tablename__ = "demand_points"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    kind: Mapped[DemandKind] = mapped_column(str_enum(DemandKind, "demand_kind"))
    name: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    source: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_demand_points_geom", "geom", postgresql_using="gist"),
        Index("ix_demand_points_kind", "kind"),
    )


class Obstacle(Base):
    """A building footprint (or any opaque area) that blocks fields of view."""

    __tablename__ = "obstacles"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_obstacles_geom", "geom", postgresql_using="gist"),)


class CoverageCache(Base):
    """One computed coverage: its figures (`result`) and, in coverage_gaps, its gap polygons.
    `version` is the registry's state it was computed at; another version means stale."""

    __tablename__ = "coverage_cache"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    area: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    # The business whose own cameras alone were counted; None: every camera on the map.
    scope_org_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    options: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (Index("ix_coverage_cache_area", "area", postgresql_using="gist"),)


class CoverageGap(Base):
    __tablename__ = "coverage_gaps"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    cache_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("coverage_cache.id", ondelete="CASCADE")
    )
    geom: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=False))
    area_m2: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ix_coverage_gaps_geom", "geom", postgresql_using="gist"),
        Index("ix_coverage_gaps_cache_id", "cache_id"),
    )


class PlanningPlan(Base):
    __tablename__ = "planning_plans"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    area: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    totals: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class PlanningProposal(Base):
    """One camera of a plan: a new one at `site`, or an existing one (`camera_id`) moved there."""

    __tablename__ = "planning_proposals"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("planning_plans.id", ondelete="CASCADE")
    )
    rank: Mapped[int] = mapped_column(Integer)
    action: Mapped[ProposalAction] = mapped_column(
        str_enum(ProposalAction, "proposal_action"), default=ProposalAction.NEW
    )
    camera_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("cameras.id", ondelete="SET NULL"), nullable=True
    )
    site: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    heading_deg: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float] = mapped_column(Float)
    gain_area_m2: Mapped[float | None] = mapped_column(Float)
    gain_demand: Mapped[float | None] = mapped_column(Float)
    saved_cost: Mapped[float | None] = mapped_column(Float)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")

    __table_args__ = (
        Index("ix_planning_proposals_site", "site", postgresql_using="gist"),
        UniqueConstraint("plan_id", "rank", name="uq_planning_proposals_plan_rank"),
    )
