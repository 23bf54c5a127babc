import uuid

import pytest

from hub.registry.params import (
    BBox,
    decode_cursor,
    encode_cursor,
    parse_bbox,
    parse_lon_lat,
)


def test_bbox_parses_four_numbers() -> None:
    assert parse_bbox("127.0,37.4,127.1,37.6") == BBox(127.0, 37.4, 127.1, 37.6)


def test_bbox_drops_heights_of_a_3d_box() -> None:
    assert parse_bbox("127.0,37.4,0,127.1,37.6,100") == BBox(127.0, 37.4, 127.1, 37.6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3", "4 comma-separated"),
        ("a,b,c,d", "4 comma-separated"),
        ("0,0,nan,1", "finite"),
        ("0,0,inf,1", "finite"),
        ("0,-91,1,1", "latitude"),
        ("0,0,181,1", "longitude"),
        ("0,1,1,0", "minimum latitude"),
        ("10,0,-10,1", "antimeridian"),
    ],
)
def test_bad_bbox_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_bbox(text)


def test_lon_lat_in_range() -> None:
    assert parse_lon_lat("127.03,37.5") == (127.03, 37.5)
    with pytest.raises(ValueError, match="latitude"):
        parse_lon_lat("127,95")
    with pytest.raises(ValueError, match="finite"):
        parse_lon_lat("NaN,1")


def test_cursor_round_trips_and_rejects_garbage() -> None:
    ident = uuid.uuid4()
    assert decode_cursor(encode_cursor(ident)) == ident
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor("not-a-cursor!")
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor("abc")
