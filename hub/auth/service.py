"""Issuing and checking API tokens. Services flush; callers commit."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass

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
    # Columns, not the ORM entity: this runs on every request.
    row = session.execute(_LOOKUP, {"token_hash": hash_token(token)}).one_or_none()
    if row is None:
        return None
    return Principal(token_id=row.id, role=row.role, organization_id=row.organization_id)
