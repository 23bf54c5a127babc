"""Inventory readers on real files: formats, delimiters, encodings, line numbers, bad files."""

import json
from pathlib import Path

import pytest

from hub.imports.errors import SourceError
from hub.imports.readers import open_table


def records(path: Path, encoding: str = "utf-8") -> list[tuple[int, list[object]]]:
    with open_table(path, encoding) as table:
        return [(r.number, r.values) for r in table.records()]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "cams.csv"
    path.write_text(delimiter.join(["lat", "lon", "name"]) + "\n" + delimiter.join(
        ["37.5", "127.0", "Gate, north"] if delimiter != "," else ["37.5", "127.0", '"Gate, n"']
    ) + "\n")  # fmt: skip
    with open_table(path) as table:
        assert (table.kind, table.delimiter, table.headers) == (
            "csv",
            delimiter,
            ("lat", "lon", "name"),
        )
        (record,) = table.records()
    assert record.values[:2] == ["37.5", "127.0"]


def test_line_numbers_count_physical_lines(tmp_path: Path) -> None:
    path = tmp_path / "cams.csv"
    path.write_text('id,note\n1,"two\nlines"\n\n2,x\n3,y\n', encoding="utf-8")
    assert records(path) == [(2, ["1", "two\nlines"]), (5, ["2", "x"]), (6, ["3", "y"])]


def test_byte_order_mark_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "cams.csv"
    path.write_bytes(b"\xef\xbb\xbflat,lon\n37.5,127\n")
    with open_table(path) as table:
        assert table.headers == ("lat", "lon")


def test_a_second_pass_reads_the_same_records(tmp_path: Path) -> None:
    path = tmp_path / "cams.csv"
    path.write_text("lat,lon\n" + "37.5,127\n" * 5000)
    with open_table(path) as table:
        first = [r.number for r in table.records()]
        second = [r.number for r in table.records()]
        assert table.position() == path.stat().st_size
    assert first == second and len(first) == 5000


def test_wrong_encoding_names_the_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "cams.csv"
    path.write_bytes(b"lat,lon,name\n" + b"37.5,127,a\n" * 3000 + "37.5,127,강남\n".encode("cp949"))
    with pytest.raises(SourceError) as caught:
        records(path)
    message = str(caught.value)
    assert message.startswith(
        "line 3002: the file is not valid utf-8 (undecodable bytes at byte 10"
    )
    assert "--encoding" in message and "\n" not in message
    assert records(path, "cp949")[-1] == (3002, ["37.5", "127", "강남"])


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", "", "is empty; expected a header row"),
        ("bad.geojson", '{"features": [{"type": "Feature",', "feature 1: the file is not valid"),
        ("none.geojson", '{"type": "Feature"}', "no features found; expected a GeoJSON Feature"),
        ("list.geojson", '{"features": [1]}', "feature 1: not a GeoJSON Feature object"),
    ],
)  # fmt: skip
def test_unusable_files(tmp_path: Path, name: str, content: str, reason: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SourceError, match=reason):
        records(path)


def test_missing_file_directory_and_encoding(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file; check the path"):
        records(tmp_path / "nope.csv")
    with pytest.raises(SourceError, match="is a directory"):
        records(tmp_path)
    (tmp_path / "a.csv").write_text("lat,lon\n")
    with pytest.raises(SourceError, match="unknown encoding 'klingon'"):
        records(tmp_path / "a.csv", "klingon")


def test_geojson_features_stream_with_their_ids(tmp_path: Path) -> None:
    features = [
        {"type": "Feature", "id": 7, "geometry": {"type": "Point", "coordinates": [127, 37.5]},
         "properties": {"name": "a", "units": 2}},
        {"type": "Feature", "id": 8, "geometry": None, "properties": {"id": "own"}},
    ]  # fmt: skip
    path = tmp_path / "cams.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with open_table(path) as table:
        first, second = table.records()
    assert (first.number, first.headers, first.values) == (1, ("id", "name", "units"), [7, "a", 2])
    assert first.geometry == {"type": "Point", "coordinates": [127, 37.5]}
    assert (second.headers, second.values) == (("id",), ["own"])  # the property wins


def test_geojson_is_recognised_by_content(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text('  {"type": "FeatureCollection", "features": []}')
    with pytest.raises(SourceError, match="no features found"):
        records(path)
