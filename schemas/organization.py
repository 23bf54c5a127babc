"""Organizations: the owners of cameras and holders of jurisdictions."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.enums import OrganizationKind
from schemas.geo import AreaGeometry, MultiPolygon
from schemas.text import NO_NUL_PATTERN

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    slug: str = Field(pattern=SLUG_PATTERN, description="Short unique handle, e.g. gangnam-gu")
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)
    kind: OrganizationKind
    jurisdiction: AreaGeometry | None = None


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL_PATTERN)
    kind: OrganizationKind | None = None
    jurisdiction: AreaGeometry | None = None


class Organization(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    slug: str
    name: str
    kind: OrganizationKind
    jurisdiction: MultiPolygon | None = None
    created_at: datetime
