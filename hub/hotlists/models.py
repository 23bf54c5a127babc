"""Table `hotlist_entries`: plates on black and white lists, each with its window and source.

`key` is the plate's confusion key (hub.hotlists.matching): one B-tree on it answers both
exact and confusable matches, so matching a read is one index probe whatever the list's size.
"""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, SmallInteger, String, func
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

    __table_args__ = (
        Index("ix_hotlist_entries_key", "key"),
        Index("ix_hotlist_entries_source", "source"),
    )
