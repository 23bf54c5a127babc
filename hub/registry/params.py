"""Parsing of geographic query parameters: pure, raises ValueError with a message for the user."""

import base64
import binascii
import math
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class BBox:
    """WGS 84 longitude/latitude box; min_lon > max_lon means it crosses the antimeridian."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def envelopes(self) -> list[tuple[float, float, float, float]]:
        """One box, or two when it crosses the antimeridian (PostGIS envelopes cannot wrap)."""
        if self.min_lon <= self.max_lon:
            return [(self.min_lon, self.min_lat, self.max_lon, self.max_lat)]
        return [
            (self.min_lon, self.min_lat, 180.0, self.max_lat),
            (-180.0, self.min_lat, self.max_lon, self.max_lat),
        ]


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
    """`minLon,minLat,maxLon,maxLat`, or six numbers with heights (which are ignored)."""
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise ValueError("bbox takes 4 or 6 comma-separated numbers")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError("bbox takes 4 or 6 comma-separated numbers") from None
    if not all(math.isfinite(n) for n in numbers):
        raise ValueError("bbox numbers must be finite")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValueError("bbox longitudes must be within -180..180")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise ValueError("bbox latitudes must be within -90..90")
    if min_lat > max_lat:
        raise ValueError("bbox lower latitude is above the upper one")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(text: str) -> uuid.UUID:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return uuid.UUID(bytes=raw)
    except (binascii.Error, ValueError):
        raise ValueError("cursor is not one this API returned; start again without it") from None
