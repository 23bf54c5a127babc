"""Column detection, row validation and slugs of the camera import: pure, no I/O."""

import math
import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hub.imports.errors import ColumnError
from hub.imports.rows import (
    FIELDS,
    CameraRow,
    RowError,
    RowValidator,
    parse_map_options,
    plan_columns,
    point_of,
    slugify,
)
from schemas.camera import CameraCreate
from schemas.enums import AdapterKind, CameraPurpose
from schemas.organization import SLUG_PATTERN

GANGNAM = ["latitude", "longitude", "old_address", "new_address", "keep_day", "count", "mng_name"]


def validator(headers: list[str], owner_column: str | None = None, **mapping: str) -> RowValidator:
    return RowValidator(plan_columns(headers, mapping, owner_column))


def row(headers: list[str], values: list[str], **mapping: str) -> CameraRow:
    return validator(headers, **mapping).validate(values)


def refused(headers: list[str], values: list[str], **mapping: str) -> str:
    with pytest.raises(RowError) as caught:
        row(headers, values, **mapping)
    return str(caught.value)


# --- columns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"),
    [("lat", "lon"), ("Latitude", "LONGITUDE"), ("y", "x"), ("위도", "경도"), (" LAT ", "lng")],
)
def test_coordinates_are_found_by_common_names(lat: str, lon: str) -> None:
    camera = row([lon, lat], ["127.05", "37.5"])
    assert (camera.lon, camera.lat) == (127.05, 37.5)


def test_missing_coordinates_name_the_headers_seen_and_the_fix() -> None:
    with pytest.raises(ColumnError) as caught:
        plan_columns(["addr", "Y_WGS84", "X_WGS84"], {}, None)
    message = str(caught.value)
    assert "the file has: addr, Y_WGS84, X_WGS84" in message
    assert "--map lat=COLUMN --map lon=COLUMN" in message


def test_map_overrides_detection() -> None:
    headers = ["lat", "lon", "Y_WGS84", "X_WGS84", "label"]
    camera = row(
        headers, ["1", "2", "37.5", "127.0", "Gate 3"], lat="Y_WGS84", lon="X_WGS84", name="label"
    )
    assert (camera.lat, camera.lon, camera.name) == (37.5, 127.0, "Gate 3")


def test_map_names_a_column_that_is_missing() -> None:
    with pytest.raises(ColumnError, match=r"--map name=addr: no column 'addr'; the file has: lat"):
        plan_columns(["lat", "lon"], {"name": "addr"}, None)


def test_map_options_are_parsed_and_unknown_fields_listed() -> None:
    assert parse_map_options(["lat=Y", " name = 주소 "]) == {"lat": "Y", "name": "주소"}
    with pytest.raises(ColumnError) as caught:
        parse_map_options(["colour=c"])
    assert str(caught.value).startswith("--map: unknown field 'colour'; fields: lat, lon, ")
    assert "units" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ColumnError, match="FIELD=COLUMN"):
        parse_map_options(["lat"])


def test_map_fields_are_the_camera_fields_plus_coordinates() -> None:
    contract = set(CameraCreate.model_fields) - {"owner_id", "location", "credentials"}
    assert set(FIELDS) == contract | {"lat", "lon"}


def test_owner_column_must_exist() -> None:
    with pytest.raises(ColumnError, match="--owner-column agency: no column 'agency'"):
        plan_columns(["lat", "lon"], {}, "agency")


def test_unused_columns_are_reported() -> None:
    plan = plan_columns([*GANGNAM, "mng_phone"], {}, "mng_name")
    assert plan.ignored == ("mng_phone",)


# --- the Gangnam dataset's conventions -------------------------------------------------------


def test_gangnam_row() -> None:
    values = ["37.4819", "127.0488", "개포동 1267", "개포로 31길 48", "30", "12", "서울남부혈액원"]
    camera = validator(GANGNAM, "mng_name").validate(values)
    assert camera.owner == "서울남부혈액원"
    assert camera.units == 12
    assert camera.retention_days == 30
    assert camera.name == "개포로 31길 48"  # the road address is preferred
    assert camera.purpose == "other" and camera.adapter == "none" and camera.status == "unknown"


def test_name_falls_back_to_the_old_address() -> None:
    values = ["37.4685", "127.1209", "율현동 116번지", " ", "30", "1", "서울특별시 시청"]
    assert validator(GANGNAM, "mng_name").validate(values).name == "율현동 116번지"


def test_keep_day_zero_means_not_reported() -> None:
    values = ["37.4685", "127.1209", "율현동 116번지", "", "0", "1", "서울특별시 시청"]
    assert validator(GANGNAM, "mng_name").validate(values).retention_days is None


def test_zero_retention_elsewhere_means_not_kept() -> None:
    assert row(["lat", "lon", "retention_days"], ["37.5", "127", "0"]).retention_days == 0


def test_units_default_to_one_and_zero_is_refused() -> None:
    assert row(["lat", "lon", "count"], ["37.5", "127", ""]).units == 1
    assert refused(["lat", "lon", "count"], ["37.5", "127", "0"]).startswith(
        "count '0' is outside 1..100000"
    )


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("heading_deg", "0", 0.0),  # closed ranges hold both ends
        ("heading_deg", "360", 360.0),
        ("fov_deg", "360", 360.0),
        ("fov_deg", "1e1", 10.0),
        ("install_year", "2020.0", 2020),  # as spreadsheets write whole numbers
        ("install_year", " 2020 ", 2020),
        ("retention_days", "0", 0),
        ("units", "100000", 100000),
        ("ptz", "YES", True),
        ("ptz", "0", False),
        ("name", "x" * 200, "x" * 200),
    ],
)
def test_values_at_the_limits_are_read(column: str, value: str, expected: object) -> None:
    read = getattr(row(["lat", "lon", column], ["37.5", "127", value]), column)
    assert read == expected and type(read) is type(expected)


@pytest.mark.parametrize(
    ("value", "reason"),
    [("inf", "is not a finite number"), ("-inf", "is not a finite number"),
     ("1e400", "is not a finite number"), ("-0.5", "is outside 0..360"), ("ten", "not a number")],
)  # fmt: skip
def test_numbers_out_of_reach_are_refused(value: str, reason: str) -> None:
    assert refused(["lat", "lon", "heading_deg"], ["37.5", "127", value]).endswith(reason)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("heading_deg", "361", "heading_deg '361' is outside 0..360"),
        ("fov_deg", "0", "fov_deg '0' is outside (0..360]"),
        ("range_m", "20001", "range_m '20001' is outside (0..20000]"),
        ("range_m", "nan", "range_m 'nan' is not a finite number"),
        ("mount_height_m", "-1", "mount_height_m '-1' is outside 0..1000"),
        ("install_year", "1949", "install_year '1949' is outside 1950..2100"),
        ("install_year", "2020.5", "install_year '2020.5' is not a whole number"),
        ("retention_days", "3651", "retention_days '3651' is outside 0..3650"),
        ("units", "100001", "units '100001' is outside 1..100000"),
        ("purpose", "spying", "purpose 'spying' is not one of: crime_prevention, traffic"),
        ("ptz", "maybe", "ptz 'maybe' is not true/false"),
        ("stream_uri", "ftp://cam/1", "is not an rtsp://, rtsps://, http:// or https:// URI"),
        ("stream_uri", "rtsp:///live", "URI with a host"),
        ("last_seen_at", "yesterday", "is not an ISO 8601 date-time"),
        ("last_seen_at", "2024-05-01T10:00:00", "has no UTC offset"),
        ("external_id", "x" * 201, "external_id is 201 characters long; at most 200 fit"),
        ("tags", "a;" + "b" * 65, "is longer than 64 characters"),
    ],
)
def test_invalid_values_are_refused_with_the_column_and_reason(
    column: str, value: str, reason: str
) -> None:
    assert reason in refused(["lat", "lon", column], ["37.5", "127", value])


@pytest.mark.parametrize(
    ("lat", "lon", "reason"),
    [
        ("", "127", "lat is empty"),
        ("37.5", "north", "lon 'north' is not a number"),
        ("91", "127", "lat '91' is outside -90..90; coordinates must be WGS 84 degrees"),
        ("37.5", "200000", "lon '200000' is outside -180..180"),
        ("inf", "127", "lat 'inf' is not a finite number"),
        ("0", "0", "coordinates 0,0 are a placeholder"),
    ],
)
def test_coordinates_must_be_present_finite_and_in_range(lat: str, lon: str, reason: str) -> None:
    assert reason in refused(["lat", "lon"], [lat, lon])


def test_credentials_in_a_uri_are_refused_without_echoing_them() -> None:
    reason = refused(["lat", "lon", "stream_uri"], ["37.5", "127", "rtsp://admin:s3cret@cam/1"])
    assert "credentials" in reason and "s3cret" not in reason


def test_values_are_converted() -> None:
    headers = [
        "lat", "lon", "Purpose", "ptz", "ai_capable", "heading_deg", "install_year", "tags",
        "last_seen_at", "adapter", "stream_uri",
    ]  # fmt: skip
    values = [
        " 37.5 ", "127.0", "Crime prevention", "YES", "0", "90", "2019.0", "north; gate ;;",
        "2024-05-01T10:00:00Z", "RTSP", "rtsp://10.0.0.7/stream1",
    ]  # fmt: skip
    camera = row(headers, values)
    assert camera.purpose == "crime_prevention"
    assert camera.ptz is True and camera.ai_capable is False
    assert camera.heading_deg == 90.0 and camera.install_year == 2019
    assert camera.tags == ["north", "gate"]
    assert camera.last_seen_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert camera.adapter == "rtsp" and camera.stream_uri == "rtsp://10.0.0.7/stream1"


def test_defaults_come_from_the_command_line() -> None:
    plan = plan_columns(["lat", "lon"], {}, None)
    camera = RowValidator(plan, purpose=CameraPurpose.TRAFFIC, adapter=AdapterKind.ONVIF).validate(
        ["37.5", "127"]
    )
    assert (camera.purpose, camera.adapter, camera.units, camera.tags) == (
        "traffic", "onvif", 1, [],
    )  # fmt: skip


def test_a_row_may_override_the_default_purpose() -> None:
    plan = plan_columns(["lat", "lon", "purpose"], {}, None)
    camera = RowValidator(plan, purpose=CameraPurpose.TRAFFIC).validate(["37.5", "127", "disaster"])
    assert camera.purpose == "disaster"


def test_empty_owner_is_refused() -> None:
    with pytest.raises(RowError, match="mng_name is empty"):
        validator(GANGNAM, "mng_name").validate(["37.5", "127", "", "", "30", "1", " "])


def test_short_rows_are_refused() -> None:
    with pytest.raises(RowError, match="has 2 fields"):
        validator(["lat", "lon", "name"]).validate(["37.5", "127"])


def test_geojson_values_need_not_be_text() -> None:
    plan = plan_columns(["id", "units", "ptz", "tags"], {}, None, geometry_coordinates=True)
    camera = RowValidator(plan).validate([42, 3, True, ["a", "b"]], (127.0, 37.5))
    assert (camera.external_id, camera.units, camera.ptz, camera.tags) == (
        "42",
        3,
        True,
        ["a", "b"],
    )
    with pytest.raises(RowError, match="units True is not a number"):
        RowValidator(plan).validate([42, True, True, []], (127.0, 37.5))


def test_geojson_coordinates_come_from_the_point() -> None:
    assert point_of({"type": "Point", "coordinates": [127.0, 37.5, 12.0]}) == (127.0, 37.5)
    with pytest.raises(RowError, match="geometry must be a Point, not LineString"):
        point_of({"type": "LineString", "coordinates": [[127, 37], [128, 38]]})
    with pytest.raises(RowError, match="geometry must be a Point, not null"):
        point_of(None)
    with pytest.raises(RowError, match=r"latitude 95\.0 is outside -90\.\.90"):
        point_of({"type": "Point", "coordinates": [127.0, 95.0]})
    with pytest.raises(ColumnError, match="drop --map lat/lon"):
        plan_columns(["y"], {"lat": "y"}, None, geometry_coordinates=True)


# --- the same rules as the API's camera contract ---------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("heading_deg", v) for v in (-0.1, 0, 360, 360.1)
    ] + [("fov_deg", v) for v in (0, 0.1, 360, 361)]
    + [("range_m", v) for v in (0, 1, 20000, 20000.5)]
    + [("mount_height_m", v) for v in (-1, 0, 1000, 1001)]
    + [("install_year", v) for v in (1949, 1950, 2100, 2101)]
    + [("retention_days", v) for v in (-1, 0, 3650, 3651)]
    + [("units", v) for v in (0, 1, 100000, 100001)]
    + [("stream_uri", v) for v in (
        "rtsp://cam/1", "rtsps://cam:554/1", "http://cam/snap.jpg", "file:///srv/cam.mp4",
        "ftp://cam/1", "rtsp://u:p@cam/1", "rtsp:///1", "cam/1", "rtsp://cam/a b",
    )]
    + [("last_seen_at", v) for v in ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00+09:00",
                                     "2024-05-01T10:00:00", "2024-05-01", "now")]
    + [("external_id", v) for v in ("a", "a\x00b")],
)  # fmt: skip
def test_row_rules_agree_with_the_camera_contract(field: str, value: object) -> None:
    location = {"type": "Point", "coordinates": [127.0, 37.5]}
    try:
        CameraCreate.model_validate({"location": location, field: value})
        contract_accepts = True
    except ValidationError:
        contract_accepts = False
    try:
        row(["lat", "lon", field], ["37.5", "127.0", str(value)])
        import_accepts = True
    except RowError:
        import_accepts = False
    assert import_accepts == contract_accepts


# --- slugs -----------------------------------------------------------------------------------


def test_ascii_names_slugify_readably() -> None:
    assert slugify("Gangnam-gu Office") == "gangnam-gu-office"
    assert slugify("  Seoul Metro (Line 2) ") == "seoul-metro-line-2"
    assert slugify("Zürich Polizei") == "zurich-polizei"


def test_korean_names_get_a_stable_hash() -> None:
    slug = slugify("서울특별시 강남구청")
    assert re.fullmatch(r"org-[0-9a-f]{8}", slug)
    assert slug == slugify("서울특별시 강남구청")
    assert slug != slugify("서울특별시 서초구청")


def test_mixed_names_keep_their_ascii_and_stay_distinct() -> None:
    seoul, busan = slugify("서울 Metro"), slugify("부산 Metro")
    assert seoul.startswith("metro-") and busan.startswith("metro-") and seoul != busan


@pytest.mark.parametrize("name", ["A" * 300, "가" * 300, "x" * 60 + " 가", "---", "!!"])
def test_slugs_always_fit_the_pattern(name: str) -> None:
    assert re.fullmatch(SLUG_PATTERN, slugify(name))


def test_parse_number_rejects_non_finite_json_values() -> None:
    plan = plan_columns(["range_m"], {}, None, geometry_coordinates=True)
    with pytest.raises(RowError, match="not a finite number"):
        RowValidator(plan).validate([math.inf], (127.0, 37.5))
