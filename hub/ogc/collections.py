"""The feature collections the OGC API serves: ids, titles, property filters and schemas. Pure."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from schemas.enums import AdapterKind, CameraPurpose, CameraStatus, OrganizationKind
from schemas.scalars import NO_NUL_PATTERN

FilterValue = str | int | bool
FilterType = Literal["string", "integer", "boolean"]

# JSON Schema fragments are written in the OpenAPI 3.0 dialect (`nullable`); openapi.py turns
# them into OpenAPI 3.1 for FastAPI's own document.
Schema = dict[str, Any]

# Integer filters compare with INTEGER columns; larger values would fail in PostgreSQL.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_TRUE = frozenset({"true", "1"})  # GDAL sends its boolean fields as integers (`ai_capable=1`)
_FALSE = frozenset({"false", "0"})


@dataclass(frozen=True)
class PropertyFilter:
    """A `name=value` query parameter that keeps features whose property equals the value."""

    name: str
    type: FilterType
    description: str
    enum: tuple[str, ...] = ()

    def parse(self, text: str) -> FilterValue:
        """The typed value, or ValueError with a message fit for the client."""
        if self.type == "boolean":
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(f"{self.name} must be true or false")
        if self.type == "integer":
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"{self.name} must be an integer") from None
            if not INT32_MIN <= value <= INT32_MAX:
                raise ValueError(f"{self.name} is out of range")
            return value
        if self.enum and text not in self.enum:
            raise ValueError(f"{self.name} must be one of: {', '.join(self.enum)}")
        if not text or "\x00" in text:  # PostgreSQL text cannot hold NUL
            raise ValueError(f"{self.name} must be non-empty text without NUL")
        return text

    def schema(self) -> Schema:
        """The parameter's schema, as strict as parse() so that what it admits is accepted."""
        if self.type == "integer":
            return {"type": "integer", "minimum": INT32_MIN, "maximum": INT32_MAX}
        if self.type == "boolean":
            return {"type": "boolean"}
        if self.enum:
            return {"type": "string", "enum": list(self.enum)}
        return {"type": "string", "minLength": 1, "pattern": NO_NUL_PATTERN}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    geometry_type: Literal["Point", "Polygon", "MultiPolygon"]
    geometry_nullable: bool
    properties: dict[str, Schema]
    filters: tuple[PropertyFilter, ...] = field(default=())

    def filter(self, name: str) -> PropertyFilter | None:
        return next((f for f in self.filters if f.name == name), None)


def _values(kind: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in kind)


def _text(description: str, nullable: bool = True) -> Schema:
    return {"type": "string", "nullable": nullable, "description": description}


def _number(description: str, type_: str = "number", nullable: bool = True) -> Schema:
    return {"type": type_, "nullable": nullable, "description": description}


def _choice(kind: type[StrEnum], description: str) -> Schema:
    return {"type": "string", "enum": list(_values(kind)), "description": description}


def _flag(description: str) -> Schema:
    return {"type": "boolean", "description": description}


CAMERA_PROPERTIES: dict[str, Schema] = {
    "owner_id": {"type": "string", "format": "uuid", "description": "Owning organization's id"},
    "owner": {"type": "string", "description": "Owning organization's slug"},
    "owner_kind": _choice(OrganizationKind, "Owning organization's kind"),
    "external_id": _text("The owner's own identifier for the camera"),
    "name": _text("Human-readable name"),
    "purpose": _choice(CameraPurpose, "Why the camera is installed"),
    "status": _choice(CameraStatus, "Last known operating status"),
    "heading_deg": _number("Viewing direction, degrees clockwise from north"),
    "fov_deg": _number("Horizontal field of view, degrees"),
    "range_m": _number("Useful viewing distance, metres"),
    "ptz": _flag("Pan-tilt-zoom camera"),
    "vendor": _text("Manufacturer"),
    "model": _text("Model name"),
    "install_year": _number("Year of installation", "integer"),
    "ai_capable": _flag("Runs on-board analytics"),
    "adapter": _choice(AdapterKind, "How the hub talks to the camera"),
    "retention_days": _number("Days the owner keeps recordings", "integer"),
    "tags": {"type": "array", "items": {"type": "string"}, "description": "Free-form labels"},
    "units": _number("Physical cameras at this site", "integer", nullable=False),
    "has_credentials": _flag("The hub holds credentials for the camera (never shown)"),
}

CAMERA_FILTERS = (
    PropertyFilter("owner", "string", "Owner organization's slug"),
    PropertyFilter("owner_kind", "string", "Owner organization's kind", _values(OrganizationKind)),
    PropertyFilter("purpose", "string", "Purpose", _values(CameraPurpose)),
    PropertyFilter("status", "string", "Status", _values(CameraStatus)),
    PropertyFilter("adapter", "string", "Adapter", _values(AdapterKind)),
    PropertyFilter("ai_capable", "boolean", "Runs on-board analytics"),
    PropertyFilter("ptz", "boolean", "Pan-tilt-zoom camera"),
    PropertyFilter("vendor", "string", "Manufacturer (exact match)"),
    PropertyFilter("install_year", "integer", "Year of installation"),
)

ORGANIZATION_PROPERTIES: dict[str, Schema] = {
    "slug": {"type": "string", "description": "Short unique handle"},
    "name": {"type": "string", "description": "Full name"},
    "kind": _choice(OrganizationKind, "Kind of organization"),
}

ORGANIZATION_FILTERS = (
    PropertyFilter("slug", "string", "Slug"),
    PropertyFilter("kind", "string", "Kind", _values(OrganizationKind)),
)

COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            id="cameras",
            title="Cameras",
            description="Registered cameras at their installed position.",
            geometry_type="Point",
            geometry_nullable=False,
            properties=CAMERA_PROPERTIES,
            filters=CAMERA_FILTERS,
        ),
        Collection(
            id="camera-fov",
            title="Camera fields of view",
            description="The ground area each camera sees; only cameras with a known view.",
            geometry_type="Polygon",
            geometry_nullable=False,
            properties=CAMERA_PROPERTIES,
            filters=CAMERA_FILTERS,
        ),
        Collection(
            id="organizations",
            title="Organizations",
            description="Camera owners and their jurisdictions (null where none is recorded).",
            geometry_type="MultiPolygon",
            geometry_nullable=True,
            properties=ORGANIZATION_PROPERTIES,
            filters=ORGANIZATION_FILTERS,
        ),
    )
}
