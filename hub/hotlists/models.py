"""Table `hotlist_entries`: plates on black and white lists, each with its window and source.

`key` is the plate's confusion key (hub.hotlists.matching): one B-tree on it answers both
exact and confusable matches, so matching a read is one index probe whatever the list's size.
"""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.registry.models import str_enum
from schemas.hotlists import Category, ListKind, Tolerance


class HotlistEntry(Base):
    __tablename__ = "hotlist_entries"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    plate: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(16))
    kind: Mapped[ListKind] = mapped_column(str_enum(ListKind, "list_kind"))
    category: Mapped[Category] = mapped_column(str_enum(Category, "hotlist_category"))
    reason: Mapped[str] = mapped_column(String(500))
    legal_basis: Mapped[str] = mapped_column(String(500))
    priority: Mapped[int] = mapped_column(SmallInteger)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(100))
    tolerance: Mapped[Tolerance] = mapped_column(str_enum(Tolerance, "hotlist_tolerance"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    issuing_agency: Mapped[str | None] = mapped_column(String(200))
    # Set for entries a peer published: its node id and the entry's id there. Null: issued
    # here, and published to peers whose agreement has the `hotlists` scope.
    origin_node_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    origin_entry_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    # The issuer's time of the change last applied: an older update arriving late is ignored.
    origin_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "uq_hotlist_entries_origin",
            "origin_node_id",
            "origin_entry_id",
            unique=True,
            postgresql_where=text("origin_node_id IS NOT NULL"),
        ),
        Index("ix_hotlist_entries_key", "key"),
        Index("ix_hotlist_entries_source", "source"),
    )
