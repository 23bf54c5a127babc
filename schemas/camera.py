"""Cameras: one registry record per camera, or per site standing for `units` cameras."""

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from schemas.enums import AdapterKind, CameraPurpose, CameraStatus
from schemas.geo import Point, Polygon

_URI_SCHEMES = {"rtsp", "rtsps", "http", "https", "file"}


def _check_uri(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in _URI_SCHEMES:
        raise ValueError(f"URI scheme must be one of {sorted(_URI_SCHEMES)}")
    if parts.username or parts.password:
        raise ValueError("do not put credentials in the URI; send them in `credentials`")
    if parts.scheme != "file" and not parts.hostname:
        raise ValueError("URI needs a host")
    return value


StreamUri = Annotated[str, Field(max_length=2000), AfterValidator(_check_uri)]
Heading = Annotated[float, Field(ge=0, le=360, description="Degrees clockwise from north")]
FieldOfView = Annotated[float, Field(gt=0, le=360, description="Horizontal field of view, degrees")]
Range = Annotated[float, Field(gt=0, le=20000, description="Useful viewing range, metres")]
Tag = Annotated[str, Field(min_length=1, max_length=64)]


class Credentials(BaseModel):
    """Write-only: accepted on create/update, stored encrypted, never returned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(max_length=200)
    password: SecretStr = Field(max_length=200)


class _CameraFields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    legal_basis: str | None = Field(default=None, max_length=500)
    heading_deg: Heading | None = None
    fov_deg: FieldOfView | None = None
    range_m: Range | None = None
    mount_height_m: float | None = Field(default=None, ge=0, le=1000)
    vendor: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    firmware: str | None = Field(default=None, max_length=100)
    install_year: int | None = Field(default=None, ge=1950, le=2100)
    stream_uri: StreamUri | None = None
    snapshot_uri: StreamUri | None = None
    last_seen_at: datetime | None = None
    retention_days: int | None = Field(default=None, ge=0, le=3650)


class CameraCreate(_CameraFields):
    owner_id: UUID | None = Field(
        default=None, description="Owner organization; business tokens default to their own"
    )
    location: Point
    purpose: CameraPurpose = CameraPurpose.OTHER
    ptz: bool = False
    ai_capable: bool = False
    adapter: AdapterKind = AdapterKind.NONE
    status: CameraStatus = CameraStatus.UNKNOWN
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    units: int = Field(default=1, ge=1, le=100000)
    credentials: Credentials | None = None


class CameraUpdate(_CameraFields):
    """Partial update: only the fields sent change; send null to clear an optional field."""

    owner_id: UUID | None = None
    location: Point | None = None
    purpose: CameraPurpose | None = None
    ptz: bool | None = None
    ai_capable: bool | None = None
    adapter: AdapterKind | None = None
    status: CameraStatus | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    units: int | None = Field(default=None, ge=1, le=100000)
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
