"""Organizations: the owners of cameras and holders of jurisdictions."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from schemas.enums import OrganizationKind
from schemas.geo import AreaGeometry, MultiPolygon
from schemas.scalars import NO_NUL_PATTERN

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
OrganizationName = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    slug: str = Field(pattern=SLUG_PATTERN, description="Short unique handle, e.g. gangnam-gu")
    name: OrganizationName
    kind: OrganizationKind
    jurisdiction: AreaGeometry | None = None


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: OrganizationName | SkipJsonSchema[None] = None
    kind: OrganizationKind | SkipJsonSchema[None] = None
    jurisdiction: AreaGeometry | None = None


class Organization(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    slug: str
    name: str
    kind: OrganizationKind
    jurisdiction: MultiPolygon | None = None
    created_at: datetime
