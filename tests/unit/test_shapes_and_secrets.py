import pytest
from cryptography.fernet import Fernet

from hub.registry.secrets import CredentialBox, PlainCredentials
from hub.registry.shapes import multipolygon_ewkt
from schemas.geo import MultiPolygon, Polygon

SQUARE = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
BOWTIE = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]


def test_polygon_becomes_multipolygon_ewkt() -> None:
    wkt = multipolygon_ewkt(Polygon.model_validate({"type": "Polygon", "coordinates": SQUARE}))
    assert wkt.startswith("SRID=4326;MULTIPOLYGON")


def test_self_intersecting_polygon_is_refused_with_reason() -> None:
    with pytest.raises(ValueError, match="Self-intersection"):
        multipolygon_ewkt(Polygon.model_validate({"type": "Polygon", "coordinates": BOWTIE}))


def test_overlapping_multipolygon_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid polygon"):
        multipolygon_ewkt(
            MultiPolygon.model_validate({"type": "MultiPolygon", "coordinates": [SQUARE, SQUARE]})
        )


def test_zero_area_polygon_is_refused() -> None:
    flat = [[[0, 0], [1, 0], [2, 0], [0, 0]]]
    with pytest.raises(ValueError, match="invalid polygon"):
        multipolygon_ewkt(Polygon.model_validate({"type": "Polygon", "coordinates": flat}))


def test_credentials_round_trip_and_hide_password() -> None:
    box = CredentialBox(Fernet.generate_key())
    sealed = box.seal(PlainCredentials("admin", "hunter2"))
    assert b"hunter2" not in sealed
    opened = box.open(sealed)
    assert opened.password == "hunter2"
    assert "hunter2" not in repr(opened)


def test_other_key_cannot_open() -> None:
    sealed = CredentialBox(Fernet.generate_key()).seal(PlainCredentials("a", "b"))
    with pytest.raises(ValueError, match="another key"):
        CredentialBox(Fernet.generate_key()).open(sealed)
