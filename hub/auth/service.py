"""Issuing and checking API tokens. Services flush; callers commit."""

import hashlib
import secrets
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from time import monotonic

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hub.auth.models import ApiToken
from schemas.enums import Role

TOKEN_PREFIX = "c4h_"


@dataclass(frozen=True)
class Principal:
    token_id: uuid.UUID
    role: Role
    organization_id: uuid.UUID | None

    @property
    def org_scope(self) -> uuid.UUID | None:
        """The only organization this caller may see, or None for node-wide roles."""
        return self.organization_id if self.role is Role.BUSINESS else None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, role: Role, organization_id: uuid.UUID | None, label: str | None = None
) -> str:
    if role is Role.BUSINESS and organization_id is None:
        raise ValueError("a business token needs an organization")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_hash=hash_token(token), role=role, organization_id=organization_id, label=label
        )
    )
    session.flush()
    return token


_LOOKUP = select(ApiToken.id, ApiToken.role, ApiToken.organization_id).where(
    ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None)
)


def authenticate(session: Session, token: str) -> Principal | None:
    return lookup_principal(session, hash_token(token))


def lookup_principal(session: Session, token_hash: str) -> Principal | None:
    # Columns, not the ORM entity: this runs on every request the cache does not answer.
    row = session.execute(_LOOKUP, {"token_hash": token_hash}).one_or_none()
    if row is None:
        return None
    return Principal(token_id=row.id, role=row.role, organization_id=row.organization_id)


class PrincipalCache:
    """Recently checked tokens, so a client's burst of requests costs one lookup.

    Entries live `ttl_s` seconds, so a token revoked in the database stops working on every node
    process within that time; a revocation made through this process should call `forget`.
    """

    def __init__(
        self, ttl_s: float = 30.0, max_entries: int = 1024, clock: Callable[[], float] = monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = Lock()

    def get(self, token_hash: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(token_hash)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._entries[token_hash]
                return None
            return entry[1]

    def put(self, token_hash: str, principal: Principal) -> None:
        with self._lock:
            self._entries[token_hash] = (self._clock() + self._ttl_s, principal)
            self._entries.move_to_end(token_hash)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def forget(self, token_hash: str) -> None:
        with self._lock:
            self._entries.pop(token_hash, None)
