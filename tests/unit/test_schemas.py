import math
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.camera import CameraCreate
from schemas.geo import Polygon
from schemas.organization import OrganizationCreate


def _camera(**fields: Any) -> dict[str, Any]:
    return {"location": {"type": "Point", "coordinates": [127.0, 37.5]}, **fields}


@pytest.mark.parametrize(
    "fields",
    [
        {"location": {"type": "Point", "coordinates": [181, 0]}},
        {"location": {"type": "Point", "coordinates": [0, -90.5]}},
        {"location": {"type": "Point", "coordinates": [math.nan, 0]}},
        {"location": {"type": "Point", "coordinates": [0]}},
        {"heading_deg": 360.5},
        {"heading_deg": -1},
        {"fov_deg": 0},
        {"fov_deg": 361},
        {"range_m": math.nan},
        {"units": 0},
        {"install_year": 1800},
        {"stream_uri": "rtsp://admin:secret@10.0.0.1/stream"},
        {"stream_uri": "ftp://example.org/x"},
        {"snapshot_uri": "https://cam/\u0004a\u001e"},
        {"stream_uri": "rtsp://cam/a b"},
        {"purpose": "spying"},
        {"unexpected": 1},
        {"tags": ["x" * 65]},
        {"ptz": 0},
        {"units": "3"},
        {"heading_deg": "90"},
        {"last_seen_at": 0},
        {"last_seen_at": "2026-01-01T00:00:00"},
        {"name": "a\x00b"},
        {"units": 1.5},
        {"units": True},
    ],
)
def test_camera_rejects_bad_fields(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CameraCreate.model_validate(_camera(**fields))


def test_camera_accepts_edges() -> None:
    cam = CameraCreate.model_validate(
        _camera(heading_deg=360, fov_deg=360, range_m=0.5, stream_uri="rtsp://cam.local/1")
    )
    assert cam.fov_deg == 360


def test_whole_float_is_a_json_integer() -> None:
    cam = CameraCreate.model_validate(_camera(units=3.0, retention_days=30.0))
    assert cam.units == 3 and isinstance(cam.units, int) and cam.retention_days == 30


def test_credentials_are_secret_in_repr() -> None:
    cam = CameraCreate.model_validate(
        _camera(credentials={"username": "admin", "password": "hunter2"})
    )
    assert "hunter2" not in repr(cam)
    assert "hunter2" not in cam.model_dump_json()


def test_polygon_ring_must_be_closed() -> None:
    with pytest.raises(ValidationError, match="closed"):
        Polygon.model_validate(
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
        )


def test_organization_slug_pattern() -> None:
    with pytest.raises(ValidationError):
        OrganizationCreate.model_validate({"slug": "Bad Slug", "name": "x", "kind": "district"})
    org = OrganizationCreate.model_validate({"slug": "gangnam-gu", "name": "x", "kind": "police"})
    assert org.kind == "police"
