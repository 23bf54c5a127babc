"""Cameras: one registry record per camera, or per site standing for `units` cameras."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
)
from pydantic.json_schema import SkipJsonSchema

from schemas.adapters import Capability, StreamProfile
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus
from schemas.geo import Point, Polygon
from schemas.scalars import JSON_INTEGER, NO_NUL_PATTERN, Flag, StreamUri

Heading = Annotated[
    float, Field(strict=True, ge=0, le=360, description="Degrees clockwise from north")
]
FieldOfView = Annotated[
    float, Field(strict=True, gt=0, le=360, description="Horizontal field of view, degrees")
]
Range = Annotated[
    float, Field(strict=True, gt=0, le=20000, description="Useful viewing range, metres")
]


def _timestamp_text(value: object) -> object:
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("a timestamp is an RFC 3339 string such as 2026-11-21T05:30:00Z")
    return value


# An RFC 3339 string with its offset; a bare number would be read as epoch seconds.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_text)]

Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL_PATTERN)]
Tags = Annotated[list[Tag], Field(max_length=50)]
Units = Annotated[
    int, Field(ge=1, le=100_000, description="Cameras this record stands for"), JSON_INTEGER
]
InstallYear = Annotated[int, Field(ge=1950, le=2100), JSON_INTEGER]
RetentionDays = Annotated[int, Field(ge=0, le=3650, description="Footage kept, days"), JSON_INTEGER]


class Credentials(BaseModel):
    """Write-only: accepted on create/update, stored encrypted, never returned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(max_length=200)
    password: SecretStr = Field(max_length=200)


class _CameraFields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    external_id: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=NO_NUL_PATTERN
    )
    name: str | None = Field(default=None, max_length=200, pattern=NO_NUL_PATTERN)
    legal_basis: str | None = Field(default=None, max_length=500, pattern=NO_NUL_PATTERN)
    heading_deg: Heading | None = None
    fov_deg: FieldOfView | None = None
    range_m: Range | None = None
    mount_height_m: float | None = Field(default=None, strict=True, ge=0, le=1000)
    vendor: str | None = Field(default=None, max_length=100, pattern=NO_NUL_PATTERN)
    model: str | None = Field(default=None, max_length=100, pattern=NO_NUL_PATTERN)
    firmware: str | None = Field(default=None, max_length=100, pattern=NO_NUL_PATTERN)
    install_year: InstallYear | None = None
    stream_uri: StreamUri | None = None
    snapshot_uri: StreamUri | None = None
    device_uri: StreamUri | None = Field(
        default=None,
        description="ONVIF device service URL (http://host:port/onvif/device_service); "
        "with adapter onvif, an http(s) stream_uri given without it is taken as this",
    )
    last_seen_at: Timestamp | None = None
    retention_days: RetentionDays | None = None


class CameraCreate(_CameraFields):
    owner_id: UUID | None = Field(
        default=None, description="Owner organization; business tokens default to their own"
    )
    location: Point
    purpose: CameraPurpose = CameraPurpose.OTHER
    ptz: Flag = False
    ai_capable: Flag = False
    adapter: AdapterKind = AdapterKind.NONE
    status: CameraStatus = CameraStatus.UNKNOWN
    tags: Tags = Field(default_factory=list)
    units: Units = 1
    credentials: Credentials | None = None


class CameraUpdate(_CameraFields):
    """Partial update: only the fields sent change; send null to clear an optional field.

    Fields without an "unknown" state may be left out but not cleared: null is not in their
    schema, and the hub answers it with a 422 naming the field.
    """

    owner_id: UUID | SkipJsonSchema[None] = None
    location: Point | SkipJsonSchema[None] = None
    purpose: CameraPurpose | SkipJsonSchema[None] = None
    ptz: Flag | SkipJsonSchema[None] = None
    ai_capable: Flag | SkipJsonSchema[None] = None
    adapter: AdapterKind | SkipJsonSchema[None] = None
    status: CameraStatus | SkipJsonSchema[None] = None
    tags: Tags | SkipJsonSchema[None] = None
    units: Units | SkipJsonSchema[None] = None
    credentials: Credentials | None = None


class Camera(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    owner_id: UUID
    external_id: str | None
    name: str | None
    purpose: CameraPurpose
    legal_basis: str | None
    location: Point
    heading_deg: float | None
    fov_deg: float | None
    range_m: float | None
    mount_height_m: float | None
    ptz: bool
    vendor: str | None
    model: str | None
    firmware: str | None
    install_year: int | None
    ai_capable: bool
    adapter: AdapterKind
    stream_uri: str | None
    snapshot_uri: str | None
    device_uri: str | None = Field(
        description="ONVIF device service URL. For enrolled (private) cameras the addresses "
        "are shown to the owning business only"
    )
    capabilities: list[Capability] = Field(
        description="What the last successful probe found the camera can do"
    )
    streams: list[StreamProfile] | None = Field(
        description="The stream profiles the last successful probe found (null: never probed, "
        "or an enrolled camera seen by others than its owner)"
    )
    has_credentials: bool
    status: CameraStatus
    last_seen_at: datetime | None
    retention_days: int | None
    tags: list[str]
    units: int
    fov: Polygon | None = Field(description="Field-of-view sector derived from heading/FOV/range")
    created_at: datetime
    updated_at: datetime
    distance_m: float | None = Field(default=None, description="Set by near/nearest queries")


class CameraPage(BaseModel):
    items: list[Camera]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")


class SummaryBucket(BaseModel):
    key: str | None = Field(description="The group's value; null where it is unknown")
    label: str | None = Field(default=None, description="Display name (owners)")
    records: int
    units: int


class CameraSummary(BaseModel):
    records: int
    units: int
    by_owner: list[SummaryBucket]
    by_owner_kind: list[SummaryBucket]
    by_purpose: list[SummaryBucket]
    by_status: list[SummaryBucket]
    by_install_year: list[SummaryBucket]
    by_ai_capable: list[SummaryBucket]
