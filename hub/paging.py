"""Keyset pages, newest first: rows ordered by (time, id) descending, and an opaque cursor that
holds the position after a page's last row. Stable under inserts, cheap at any depth."""

import base64
import binascii
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import AfterValidator
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T = TypeVar("T")


def encode_cursor(moment: datetime, row_id: uuid.UUID) -> str:
    """The position after a row, opaque to clients: its time (µs since epoch) and id."""
    micros = (moment - EPOCH) // timedelta(microseconds=1)  # exact, unlike a float
    raw = micros.to_bytes(8, "big", signed=True) + row_id.bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        if len(raw) != 24:
            raise ValueError
        micros = int.from_bytes(raw[:8], "big", signed=True)
        moment = EPOCH + timedelta(microseconds=micros)
        return moment, uuid.UUID(bytes=raw[8:])
    except (binascii.Error, ValueError, OverflowError):
        raise ValueError("cursor is not one this API returned; start again without it") from None


def _checked(text: str | None) -> str | None:
    if text is not None:
        decode_cursor(text)  # its ValueError becomes a 422 naming the parameter
    return text


Cursor = Annotated[
    str | None,
    Query(pattern=r"^[A-Za-z0-9_-]{32}$", description="The next_cursor of the page before"),
    AfterValidator(_checked),
]
"""The `cursor` query parameter of a newest-first list."""


def newest_first(
    session: Session,
    stmt: Select[Any],
    time: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
    position: Callable[[Any], tuple[datetime, uuid.UUID]],
) -> tuple[list[Any], str | None]:
    """One page of `stmt`'s rows (as `session.execute` gives them) and the next page's cursor.
    `position` reads a row's (time, id)."""
    if cursor is not None:
        after = decode_cursor(cursor)
        stmt = stmt.where(tuple_(time, row_id) < tuple_(*after))
    stmt = stmt.order_by(time.desc(), row_id.desc()).limit(limit + 1)
    rows = list(session.execute(stmt).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(*position(rows[-1])) if more else None
