"""Owners named in an inventory's owner column: found by slug, id or name, or created.

All organizations are read once before the rows stream in (a node has hundreds, not millions),
so resolving a row's owner is a dictionary look-up and never a query in the middle of a COPY.
Owners to create get their id at once and are inserted after the rows are staged, inside the
import's transaction: an aborted import leaves no organization behind.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from hub.imports.rows import RowError, slugify
from hub.registry.models import Organization
from schemas.enums import OrganizationKind


@dataclass(frozen=True)
class NewOwner:
    id: uuid.UUID
    slug: str
    name: str


class OwnerDirectory:
    def __init__(
        self, known: Iterable[tuple[uuid.UUID, str, str]], create: OrganizationKind | None
    ) -> None:
        self._create = create
        self._by_slug: dict[str, tuple[uuid.UUID, str]] = {}
        self._by_id: set[uuid.UUID] = set()
        self._by_name: dict[str, list[uuid.UUID]] = {}
        for org_id, slug, name in known:
            self._add(org_id, slug, name)
        self._resolved: dict[str, uuid.UUID | RowError] = {}
        self._new: dict[uuid.UUID, NewOwner] = {}

    @classmethod
    def load(cls, conn: Connection, create: OrganizationKind | None) -> "OwnerDirectory":
        rows = conn.execute(select(Organization.id, Organization.slug, Organization.name))
        return cls(((r.id, r.slug, r.name) for r in rows), create)

    def _add(self, org_id: uuid.UUID, slug: str, name: str) -> None:
        self._by_slug[slug] = (org_id, name)
        self._by_id.add(org_id)
        self._by_name.setdefault(name, []).append(org_id)

    def resolve(self, value: str) -> uuid.UUID:
        """The organization a cell names; RowError when there is none (and none may be made)."""
        found = self._resolved.get(value)
        if found is None:
            try:
                found = self._lookup(value)
            except RowError as exc:
                found = exc
            self._resolved[value] = found
        if isinstance(found, RowError):
            raise found
        return found

    def _lookup(self, value: str) -> uuid.UUID:
        if value in self._by_slug:
            return self._by_slug[value][0]
        try:
            if uuid.UUID(value) in self._by_id:
                return uuid.UUID(value)
        except ValueError:
            pass
        named = self._by_name.get(value, [])
        if len(named) == 1:
            return named[0]
        if named:
            raise RowError(f"owner {value!r} names {len(named)} organizations; write its slug")
        if self._create is None:
            raise RowError(f"unknown owner {value!r}; create it or pass --create-owners KIND")
        slug = slugify(value)
        if slug in self._by_slug:
            holder = self._by_slug[slug][1]
            raise RowError(
                f"owner {value!r} would get the slug {slug!r}, which {holder!r} has; "
                f"write {slug} in the column if they are the same organization"
            )
        owner = NewOwner(uuid.uuid4(), slug, value)
        self._add(owner.id, owner.slug, owner.name)
        self._new[owner.id] = owner
        return owner.id

    def insert_new(self, conn: Connection, used: set[uuid.UUID]) -> list[NewOwner]:
        """Insert the new owners that kept at least one camera; returns them."""
        owners = [o for o in self._new.values() if o.id in used]
        if owners:
            assert self._create is not None
            kind = self._create
            rows = [{"id": o.id, "slug": o.slug, "name": o.name, "kind": kind} for o in owners]
            conn.execute(insert(Organization), rows)
        return owners
