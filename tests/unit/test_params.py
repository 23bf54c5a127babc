import uuid

import pytest

from hub.registry.params import (
    BBox,
    decode_cursor,
    encode_cursor,
    parse_bbox,
    parse_lon_lat,
)


def test_bbox_four_numbers() -> None:
    assert parse_bbox("127,37.4,127.1,37.6") == BBox(127, 37.4, 127.1, 37.6)


def test_bbox_six_numbers_drop_heights() -> None:
    assert parse_bbox("127,37.4,-5,127.1,37.6,300") == BBox(127, 37.4, 127.1, 37.6)


def test_bbox_envelopes_split_at_the_antimeridian() -> None:
    assert BBox(170, -10, -170, 10).envelopes() == [(170, -10, 180, 10), (-180, -10, -170, 10)]
    assert BBox(1, 2, 3, 4).envelopes() == [(1, 2, 3, 4)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3", "4 or 6"),
        ("1,2,3,4,5", "4 or 6"),
        ("a,b,c,d", "4 or 6"),
        ("1,2,,4", "4 or 6"),
        ("nan,0,1,1", "finite"),
        ("0,0,inf,1", "finite"),
        ("-181,0,1,1", "longitudes"),
        ("0,-91,1,1", "latitudes"),
        ("0,10,1,5", "lower latitude"),
    ],
)
def test_bbox_errors(text: str, message: str) -> None:
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
