"""Binary COPY values of the camera import: ids, points, tag arrays, (line, id) rows. No I/O."""

import struct
import uuid

import pytest
import shapely
from shapely import Point, wkb

from hub.imports.encoding import (
    COPY_HEADER,
    EMPTY_TEXT_ARRAY,
    KEY_ROW,
    MAX_IDS,
    CameraIds,
    key_rows,
    point_ewkb,
    split_ids,
    text_array,
)
from hub.imports.loader import COPY_COLUMNS
from hub.imports.rows import CameraRow


def test_camera_ids_are_uuid7_and_ascend_across_batches() -> None:
    source = CameraIds()
    ids = [uuid.UUID(bytes=raw) for n in (3, MAX_IDS, 1, 500) for raw in split_ids(source.take(n))]
    assert len(ids) == 3 + MAX_IDS + 1 + 500
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    with pytest.raises(ValueError, match="at most 4096"):
        source.take(MAX_IDS + 1)


def test_point_ewkb_is_a_wgs84_point() -> None:
    point = wkb.loads(point_ewkb(127.0276, 37.4979))
    assert isinstance(point, Point)
    assert (point.x, point.y) == (127.0276, 37.4979)
    assert int(shapely.get_srid(point)) == 4326


def test_text_array_binary_format() -> None:
    assert text_array([]) == EMPTY_TEXT_ARRAY == struct.pack("!iiI", 0, 0, 25)
    encoded = text_array(["gate", "북문"])
    dims, nulls, oid, size, base = struct.unpack_from("!iiIii", encoded)
    assert (dims, nulls, oid, size, base) == (1, 0, 25, 2, 1)
    rest = encoded[20:]
    assert rest == struct.pack("!i", 4) + b"gate" + struct.pack("!i", 6) + "북문".encode()


def test_key_rows_keep_line_and_id_of_the_chosen_cameras() -> None:
    ids = CameraIds().take(3)
    data = key_rows([2, 5, 9], ids, [True, False, True])
    assert len(data) == 2 * KEY_ROW.itemsize == 60
    assert struct.unpack_from("!hiii16s", data) == (2, 4, 2, 16, ids[:16])
    assert struct.unpack_from("!hiii16s", data, 30) == (2, 4, 9, 16, ids[32:])
    assert COPY_HEADER.startswith(b"PGCOPY\n\xff\r\n\x00")


def test_copy_columns_follow_camera_row() -> None:
    names = [name for name, _ in COPY_COLUMNS]
    # _copy sends row[1:5] after id and owner_id, and row[7:-2] after location
    assert names[2:6] == list(CameraRow._fields[1:5])
    assert names[6] == "location"
    assert names[7:24] == list(CameraRow._fields[7:-2])
    assert names[24:] == ["tags", "units", "fov"]
