"""How a collection maps onto tables: the shape every collection's source fills in."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.orm import QueryableAttribute

Condition = ColumnElement[bool]
Column = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class Source:
    """How one collection maps onto tables.

    `table` alone serves filters, counts and extents; `rows` adds what the properties
    need. `scope` is the column a business token is held to; None when the collection belongs
    to no organization, and a business sees none of it.
    """

    key: Column
    geometry: Column
    scope: Column | None
    properties: tuple[Column, ...]
    rows: FromClause
    table: FromClause
    base: tuple[Condition, ...]
    filters: Mapping[str, Callable[[Any], Condition]]
    # /req/core/fc-bbox-response: bbox also matches features without a geometry.
    bbox_keeps_null: bool = False
    # Cameras: those whose enrolment keeps them off the map are shown to their owner only.
    consented: bool = False
    # Node-wide callers see only rows whose scope is null (not those computed for a business).
    exact_scope: bool = False
    # The geometry served, when not `geometry` itself (which filters and extents use).
    display: Column | None = None
