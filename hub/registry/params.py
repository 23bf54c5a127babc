"""Parsing of geographic query parameters: pure, raises ValueError with a message for the user."""

import base64
import binascii
import math
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def _numbers(text: str, count: int, what: str) -> list[float]:
    parts = text.split(",")
    if len(parts) != count:
        raise ValueError(f"{what} takes {count} comma-separated numbers")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{what} takes {count} comma-separated numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{what} must be finite numbers")
    return values


def _check_lon_lat(lon: float, lat: float) -> None:
    if not -180 <= lon <= 180:
        raise ValueError(f"longitude {lon} is outside -180..180")
    if not -90 <= lat <= 90:
        raise ValueError(f"latitude {lat} is outside -90..90")


def parse_lon_lat(text: str, what: str = "point") -> tuple[float, float]:
    lon, lat = _numbers(text, 2, what)
    _check_lon_lat(lon, lat)
    return lon, lat


def parse_bbox(text: str) -> BBox:
    """`minlon,minlat,maxlon,maxlat` (a 6-number 3D bbox is accepted and its heights dropped)."""
    count = 6 if text.count(",") == 5 else 4
    values = _numbers(text, count, "bbox")
    if count == 6:
        values = [values[0], values[1], values[3], values[4]]
    min_lon, min_lat, max_lon, max_lat = values
    _check_lon_lat(min_lon, min_lat)
    _check_lon_lat(max_lon, max_lat)
    if min_lat > max_lat:
        raise ValueError("bbox minimum latitude is above its maximum")
    if min_lon > max_lon:
        raise ValueError("bbox crossing the antimeridian is not supported; split it in two")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(text: str) -> uuid.UUID:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return uuid.UUID(bytes=raw)
    except (binascii.Error, ValueError):
        raise ValueError("cursor is not one this API returned; start again without it") from None
