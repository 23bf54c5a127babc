"""What an adapter learns when it probes a camera: identity, streams and capabilities."""

from collections import Counter
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from schemas.enums import AdapterKind
from schemas.events import UtcTimestamp
from schemas.scalars import JSON_INTEGER, NO_NUL_PATTERN, Flag, StreamUri

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


class StreamRole(StrEnum):
    MAIN = "main"  # full resolution: recording, evidence
    SUB = "sub"  # reduced: live view, analytics
    OTHER = "other"


class Capability(StrEnum):
    """Closed on purpose: the hub acts on these, so a new one is a reviewed schema change."""

    EVENTS = "events"  # the camera pushes or serves events (ONVIF PullPoint)
    ANALYTICS = "analytics"  # on-camera rules: line crossing, fields, object classes
    PTZ = "ptz"
    IMAGING = "imaging"  # focus, exposure, IR cut
    SNAPSHOT = "snapshot"  # a still image without decoding the stream
    AUDIO = "audio"
    METADATA = "metadata"  # ONVIF Profile M scene metadata


def _sorted_unique(values: list[Capability]) -> list[Capability]:
    # A set in meaning; a sorted list keeps JSON and comparisons deterministic.
    return sorted(set(values))


class StreamProfile(BaseModel):
    """One encoded stream the camera offers (an ONVIF media profile, an RTSP path)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    token: Text = Field(description="The camera's identifier, e.g. the ONVIF profile token")
    name: Text | None = Field(default=None, description="The camera's label for the stream")
    role: StreamRole = StreamRole.OTHER
    uri: StreamUri | None = Field(default=None, description="Stream URI, without credentials")
    codec: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9._+-]+$",
        description='As the camera names it, e.g. "H264", "H265", "JPEG"',
    )
    width: Annotated[int, Field(ge=1, le=16384), JSON_INTEGER] | None = None
    height: Annotated[int, Field(ge=1, le=16384), JSON_INTEGER] | None = None
    fps: float | None = Field(default=None, strict=True, gt=0, le=1000)
    bitrate_kbps: Annotated[int, Field(ge=1, le=1_000_000), JSON_INTEGER] | None = None


class CameraDescription(BaseModel):
    """A probe's result. Unknown facts are null, never guessed.

    `main_stream` and `sub_stream` are derived properties, not fields, so the JSON form
    validates back into the model unchanged.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    adapter: AdapterKind
    manufacturer: Text | None = None
    model: Text | None = None
    firmware: Text | None = None
    serial: Text | None = None
    hardware_id: Text | None = Field(default=None, description="The vendor's hardware id")
    streams: list[StreamProfile] = Field(
        default_factory=list,
        max_length=64,
        description="At most one stream of role main and one of role sub",
    )
    snapshot_uri: StreamUri | None = Field(default=None, description="Without credentials")
    ptz: Flag = Field(default=False, description="Mirrors the ptz capability")
    clock_offset_s: float | None = Field(
        default=None,
        description="Camera clock minus hub clock, seconds (positive: camera ahead); "
        "used to correct event times",
    )
    capabilities: Annotated[list[Capability], AfterValidator(_sorted_unique)] = Field(
        default_factory=list
    )
    probed_at: UtcTimestamp

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ptz != (Capability.PTZ in self.capabilities):
            raise ValueError("ptz and the ptz capability must agree")
        tokens = Counter(stream.token for stream in self.streams)
        if any(count > 1 for count in tokens.values()):
            raise ValueError("stream tokens must be unique")
        for role in (StreamRole.MAIN, StreamRole.SUB):
            if sum(stream.role is role for stream in self.streams) > 1:
                raise ValueError(f"at most one stream may have role {role}")
        return self

    @property
    def main_stream(self) -> StreamProfile | None:
        """The stream of role main; else the first one, as cameras list their best first."""
        for stream in self.streams:
            if stream.role is StreamRole.MAIN:
                return stream
        return self.streams[0] if self.streams else None

    @property
    def sub_stream(self) -> StreamProfile | None:
        """The stream of role sub, if the camera has one; no fallback."""
        return next((s for s in self.streams if s.role is StreamRole.SUB), None)
