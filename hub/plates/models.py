"""Table `plate_reads`: every plate read, partitioned by day on `read_at`.

Reads are kept for a retention period (60 days by default); with one partition per day,
expiring a day is a DROP TABLE of its partition instead of a DELETE of millions of rows.
Partitions are created ahead by the SQL function c4hub_plate_reads_partition(day) (see
hub.plates.store.ensure_partitions) and dropped by hub.plates.store.drop_expired.

The primary key holds the partition key (PostgreSQL requires it): (read_at, id), which also
serves the newest-first keyset pages. `plate_key` is the confusion key (hub.hotlists.matching)
for fuzzy search; the trigram index on `plate` answers partial patterns such as `12_4AB`.
"""

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.registry.models import str_enum
from schemas.analytics import Colour, Direction, ObjectClass


class PlateReadRow(Base):
    __tablename__ = "plate_reads"

    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    camera_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("cameras.id", ondelete="CASCADE"))
    plate: Mapped[str] = mapped_column(String(16))
    plate_key: Mapped[str] = mapped_column(String(16))
    raw_text: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    region: Mapped[str | None] = mapped_column(String(16))
    vehicle_class: Mapped[ObjectClass | None] = mapped_column(str_enum(ObjectClass, "object_class"))
    colour: Mapped[Colour | None] = mapped_column(str_enum(Colour, "vehicle_colour"))
    direction: Mapped[Direction | None] = mapped_column(str_enum(Direction, "direction"))
    track_id: Mapped[int | None] = mapped_column(Integer)
    box: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    evidence: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    enforcement_exempt: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        Index("ix_plate_reads_plate", "plate", text("read_at DESC")),
        Index("ix_plate_reads_key", "plate_key", text("read_at DESC")),
        Index("ix_plate_reads_camera", "camera_id", text("read_at DESC")),
        Index("ix_plate_reads_location", "location", postgresql_using="gist"),
        Index(
            "ix_plate_reads_plate_trgm",
            "plate",
            postgresql_using="gin",
            postgresql_ops={"plate": "gin_trgm_ops"},
        ),
        {"postgresql_partition_by": "RANGE (read_at)"},
    )
