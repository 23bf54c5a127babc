"""Camera import into PostGIS: load, all or nothing, rejects, repeated ids, GeoJSON, bulk loads.

Each test runs on the `connection` fixture and is rolled back; the import's own savepoint is
what makes "nothing written" observable inside the test.
"""

import csv
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, insert, text

from hub.imports import loader
from hub.imports.errors import ColumnError, ImportFailed, SourceError
from hub.imports.loader import CameraImportOptions, CameraImportResult, import_cameras
from hub.registry.cameras import footprint_wkt
from hub.registry.models import Organization
from schemas.enums import AdapterKind, CameraPurpose, OrganizationKind

DISTRICT = OrganizationKind.DISTRICT


def add_org(conn: Connection, slug: str, name: str | None = None) -> uuid.UUID:
    org_id = uuid.uuid4()
    conn.execute(
        insert(Organization).values(id=org_id, slug=slug, name=name or slug, kind=DISTRICT)
    )
    return org_id


def write_csv(path: Path, rows: list[list[object]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, delimiter=delimiter).writerows(rows)
    return path


def scalar(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar_one()


def counts(conn: Connection) -> tuple[int, int]:
    return scalar(conn, "SELECT count(*) FROM cameras"), scalar(
        conn, "SELECT count(*) FROM organizations"
    )


def run(conn: Connection, path: Path, **options: Any) -> CameraImportResult:
    return import_cameras(conn, path, CameraImportOptions(**options))


# --- the Gangnam inventory -------------------------------------------------------------------


def test_gangnam_inventory(connection: Connection, data_dir: Path) -> None:
    source = data_dir / "seoul" / "gangnam_cctv.csv"
    with source.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    agencies = {r["mng_name"] for r in rows}

    result = run(connection, source, owner_column="mng_name", create_owners=DISTRICT)

    assert (result.records, result.units, result.owners) == (1763, 4742, len(agencies))
    assert result.rejected == 0 and result.ignored_columns == ["mng_phone"]
    assert scalar(connection, "SELECT count(*) FROM cameras") == 1763
    assert scalar(connection, "SELECT sum(units) FROM cameras") == 4742
    owners = connection.execute(
        text(
            "SELECT DISTINCT o.name, o.kind FROM cameras c JOIN organizations o ON o.id = owner_id"
        )
    ).all()
    assert {name for name, _ in owners} == agencies
    assert {kind for _, kind in owners} == {"district"}
    # retention follows keep_day, where 0 means "not reported"
    expected: dict[int | None, int] = {}
    for r in rows:
        days = int(r["keep_day"]) or None
        expected[days] = expected.get(days, 0) + 1
    found: dict[int | None, int] = dict(
        connection.execute(
            text("SELECT retention_days, count(*) FROM cameras GROUP BY retention_days")
        ).all()
    )
    assert found == expected and None in found
    # per row: the record at a site's coordinates carries that row's count and retention
    first = rows[1]
    record = connection.execute(
        text(
            "SELECT units, retention_days, name FROM cameras "
            "WHERE ST_Equals(location, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
        ),
        {"lon": float(first["longitude"]), "lat": float(first["latitude"])},
    ).all()
    assert (int(first["count"]), int(first["keep_day"]), first["new_address"]) in record


# --- all or nothing --------------------------------------------------------------------------


def test_first_bad_row_aborts_and_nothing_is_written(
    connection: Connection, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "cams.csv",
        [
            ["lat", "lon", "agency", "heading_deg"],
            ["37.50", "127.03", "New Agency A", "90"],
            ["37.51", "127.04", "New Agency B", ""],
            ["37.52", "127.05", "New Agency A", "400"],
            ["95", "127.05", "New Agency A", ""],
        ],
    )
    before = counts(connection)
    with pytest.raises(ImportFailed) as caught:
        run(connection, path, owner_column="agency", create_owners=DISTRICT)
    assert str(caught.value) == "line 4: heading_deg '400' is outside 0..360"
    assert counts(connection) == before  # no cameras and no organizations


def test_unknown_owner_without_create_owners(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "gangnam-gu", "Gangnam-gu Office")
    path = write_csv(
        tmp_path / "cams.csv",
        [["lat", "lon", "agency"], ["37.5", "127.0", "gangnam-gu"], ["37.5", "127.0", "Elsewhere"]],
    )
    with pytest.raises(ImportFailed) as caught:
        run(connection, path, owner_column="agency")
    assert str(caught.value) == (
        "line 3: unknown owner 'Elsewhere'; create it or pass --create-owners KIND"
    )
    assert scalar(connection, "SELECT count(*) FROM cameras") == 0


def test_owners_are_found_by_slug_name_or_id(connection: Connection, tmp_path: Path) -> None:
    org_id = add_org(connection, "gangnam-gu", "Gangnam-gu Office")
    path = write_csv(
        tmp_path / "cams.csv",
        [
            ["lat", "lon", "agency"],
            ["37.5", "127.0", "gangnam-gu"],
            ["37.5", "127.0", "Gangnam-gu Office"],
            ["37.5", "127.0", str(org_id)],
        ],
    )
    before = counts(connection)
    result = run(connection, path, owner_column="agency", create_owners=DISTRICT)
    assert (result.records, result.owners, result.created_owners) == (3, 1, [])
    assert counts(connection) == (before[0] + 3, before[1])


def test_created_owner_slugs(connection: Connection, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "cams.csv",
        [["lat", "lon", "agency"], ["37.5", "127.0", "Seoul Metro"], ["37.5", "127.0", "강남구청"]],
    )
    result = run(connection, path, owner_column="agency", create_owners=OrganizationKind.OPERATOR)
    assert result.created_owners[0] == "seoul-metro"
    assert result.created_owners[1].startswith("org-")
    kinds = connection.execute(
        text("SELECT slug, name, kind FROM organizations WHERE slug = ANY(:slugs)"),
        {"slugs": result.created_owners},
    ).all()
    assert sorted(kinds) == sorted(
        [
            ("seoul-metro", "Seoul Metro", "operator"),
            (result.created_owners[1], "강남구청", "operator"),
        ]
    )


def test_one_owner_for_every_row(connection: Connection, tmp_path: Path) -> None:
    org_id = add_org(connection, "acme")
    path = write_csv(tmp_path / "cams.csv", [["y", "x"], ["37.5", "127.0"], ["37.6", "127.1"]])
    result = run(
        connection,
        path,
        owner="acme",
        purpose=CameraPurpose.PRIVATE_PREMISES,
        adapter=AdapterKind.ONVIF,
    )
    assert (result.records, result.owners) == (2, 1)
    assert connection.execute(
        text("SELECT DISTINCT owner_id, purpose, adapter, status, units, tags FROM cameras")
    ).all() == [(org_id, "private_premises", "onvif", "unknown", 1, [])]
    with pytest.raises(ImportFailed, match="no organization 'nobody'"):
        run(connection, path, owner="nobody")


# --- --skip-invalid --------------------------------------------------------------------------


def test_skip_invalid_loads_the_rest_and_writes_rejects(
    connection: Connection, tmp_path: Path
) -> None:
    add_org(connection, "acme")
    path = write_csv(
        tmp_path / "cams.csv",
        [
            ["camera_id", "lat", "lon", "count", "note"],
            ["A", "37.50", "127.03", "2", "ok"],
            ["B", "", "127.03", "1", "no latitude"],
            ["C", "37.50", "127.03", "0", "no cameras"],
            ["A", "37.51", "127.04", "1", "repeats A"],
            ["D", "37.52", "127.05", "3", "ok"],
            ["E", "37.52", "127.05", "3"],
        ],
    )
    rejects = tmp_path / "out" / "bad.csv"
    rejects.parent.mkdir()
    result = run(connection, path, owner="acme", skip_invalid=True, rejects=rejects)
    assert (result.records, result.units, result.rejected) == (2, 5, 4)
    assert result.rejects_path == rejects
    with rejects.open(encoding="utf-8", newline="") as f:
        written = list(csv.reader(f))
    assert written == [
        ["line", "reason", "camera_id", "lat", "lon", "count", "note"],
        ["3", "lat is empty", "B", "", "127.03", "1", "no latitude"],
        [
            "4",
            "count '0' is outside 1..100000 (a record stands for 1 or more cameras)",
            "C", "37.50", "127.03", "0", "no cameras",
        ],
        [
            "5", "external_id 'A' repeats line 2; give each camera its own id",
            "A", "37.51", "127.04", "1", "repeats A",
        ],
        [
            "7", "has 4 fields but the header has 5; look for a stray delimiter or quote",
            "E", "37.52", "127.05", "3",
        ],
    ]  # fmt: skip
    assert sorted(connection.execute(text("SELECT external_id, units FROM cameras")).all()) == [
        ("A", 2),
        ("D", 3),
    ]


def test_rejects_file_defaults_to_next_to_the_input(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    path = write_csv(tmp_path / "cams.csv", [["lat", "lon"], ["37.5", "127"], ["x", "127"]])
    result = run(connection, path, owner="acme", skip_invalid=True)
    assert result.rejects_path == tmp_path / "cams.csv.rejects.csv"
    assert result.rejects_path.read_text(encoding="utf-8").splitlines() == [
        "line,reason,lat,lon",
        "3,lat 'x' is not a number,x,127",
    ]


def test_no_rejects_file_when_nothing_is_rejected(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    path = write_csv(tmp_path / "cams.csv", [["lat", "lon"], ["37.5", "127"]])
    result = run(connection, path, owner="acme", skip_invalid=True)
    assert (result.records, result.rejected, result.rejects_path) == (1, 0, None)
    assert not (tmp_path / "cams.csv.rejects.csv").exists()


def test_owners_of_rejected_rows_only_are_not_created(
    connection: Connection, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "cams.csv",
        [
            ["id", "lat", "lon", "agency"],
            ["1", "37.5", "127.0", "Kept Agency"],
            ["1", "37.5", "127.0", "Kept Agency"],
            ["2", "37.5", "127.0", "Lost Agency"],
            ["2", "37.5", "127.0", "Lost Agency"],
        ],
    )
    add_org(connection, "lost-agency-elsewhere", "Lost Agency")  # an existing owner is found
    result = run(
        connection,
        path,
        owner_column="agency",
        create_owners=DISTRICT,
        skip_invalid=True,
        rejects=tmp_path / "r.csv",
    )
    assert (result.records, result.rejected, result.created_owners) == (2, 2, ["kept-agency"])


# --- repeated external ids -------------------------------------------------------------------


def test_repeated_id_in_the_file_is_reported_with_both_lines(
    connection: Connection, tmp_path: Path
) -> None:
    add_org(connection, "acme")
    add_org(connection, "other")
    path = write_csv(
        tmp_path / "cams.csv",
        [
            ["id", "lat", "lon", "owner"],
            ["CAM-1", "37.5", "127.0", "acme"],
            ["CAM-1", "37.5", "127.0", "other"],  # another owner: not a repeat
            ["CAM-2", "37.5", "127.0", "acme"],
            ["CAM-1", "37.5", "127.0", "acme"],
        ],
    )
    with pytest.raises(ImportFailed) as caught:
        run(connection, path, owner_column="owner")
    assert str(caught.value) == (
        "line 5: external_id 'CAM-1' repeats line 2; give each camera its own id"
    )
    assert scalar(connection, "SELECT count(*) FROM cameras") == 0


def test_id_the_owner_already_has_is_reported_with_its_line(
    connection: Connection, tmp_path: Path
) -> None:
    add_org(connection, "acme")
    first = write_csv(tmp_path / "a.csv", [["id", "lat", "lon"], ["CAM-7", "37.5", "127.0"]])
    run(connection, first, owner="acme")
    second = write_csv(
        tmp_path / "b.csv",
        [["id", "lat", "lon"], ["CAM-8", "37.5", "127.0"], ["", "37.5", "127.0"],
         ["CAM-7", "37.6", "127.1"]],
    )  # fmt: skip
    with pytest.raises(ImportFailed) as caught:
        run(connection, second, owner="acme")
    assert str(caught.value) == (
        "line 4: acme already has a camera with external_id 'CAM-7'; "
        "drop the row or change that camera through the API"
    )
    assert scalar(connection, "SELECT count(*) FROM cameras") == 1
    skipped = run(connection, second, owner="acme", skip_invalid=True, rejects=tmp_path / "r.csv")
    assert (skipped.records, skipped.rejected) == (2, 1)


# --- other formats ---------------------------------------------------------------------------


def test_semicolons_bom_and_korean_headers(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    path = tmp_path / "cams.csv"
    path.write_bytes("\ufeff위도;경도;이름\n37.5;127;x\n".encode())
    result = run(connection, path, owner="acme")
    assert result.records == 1 and result.ignored_columns == ["이름"]


def test_cp949_needs_its_encoding(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    path = tmp_path / "cams.csv"
    path.write_bytes("lat,lon,name\n37.5,127.0,강남구청 앞\n".encode("cp949"))
    with pytest.raises(SourceError) as caught:
        run(connection, path, owner="acme")
    assert "not valid utf-8" in str(caught.value) and "--encoding" in str(caught.value)
    run(connection, path, owner="acme", encoding="cp949")
    assert scalar(connection, "SELECT name FROM cameras") == "강남구청 앞"


def test_missing_coordinates_column(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    path = write_csv(tmp_path / "cams.csv", [["addr", "X_WGS"], ["a", "127"]])
    with pytest.raises(ColumnError, match="the file has: addr, X_WGS"):
        run(connection, path, owner="acme")


def feature(lon: float, lat: float, **properties: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def test_geojson_cameras_with_footprints(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    cams = [
        {**feature(127.03, 37.5, heading_deg=90, fov_deg=60, range_m=50), "id": "G-1"},
        feature(127.04, 37.51, external_id="G-2", ptz=True, range_m=80, tags=["gate", "north"]),
        feature(127.05, 37.52, external_id="G-3", name="Lobby", units=4),
    ]
    path = tmp_path / "cams.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": cams}))
    result = run(connection, path, owner="acme")
    assert result.records == 3 and result.units == 6
    rows = connection.execute(
        text(
            "SELECT external_id, ST_X(location), ST_Y(location), heading_deg, fov_deg, range_m,"
            " ptz, tags, name, fov FROM cameras ORDER BY external_id"
        )
    ).all()
    assert [r.external_id for r in rows] == ["G-1", "G-2", "G-3"]
    assert rows[1].tags == ["gate", "north"] and rows[2].name == "Lobby"
    assert rows[2].fov is None
    for r in rows[:2]:  # the footprint is the API's: same vertices in the same order
        expected = footprint_wkt(r[1], r[2], r.heading_deg, r.fov_deg, r.range_m, r.ptz)
        assert scalar(
            connection,
            "SELECT ST_OrderingEquals(fov, ST_GeomFromEWKT(:wkt)) FROM cameras "
            "WHERE external_id = :id",
            wkt=expected,
            id=r.external_id,
        )


def test_geojson_bad_feature_names_its_number(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    bad: dict[str, object] = {"type": "Feature", "geometry": None, "properties": {}}
    path = tmp_path / "cams.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature(127, 37.5), bad]})
    )
    with pytest.raises(ImportFailed, match=r"^feature 2: geometry must be a Point, not null$"):
        run(connection, path, owner="acme")
    rejects = tmp_path / "r.csv"
    run(connection, path, owner="acme", skip_invalid=True, rejects=rejects)
    with rejects.open(encoding="utf-8", newline="") as f:
        header, rejected = list(csv.reader(f))
    assert header == ["line", "reason", "feature"]
    assert rejected[:2] == ["2", "geometry must be a Point, not null"]
    assert json.loads(rejected[2]) == bad


def test_progress_reports_bytes_up_to_the_file_size(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    rows: list[list[object]] = [["lat", "lon"]]
    rows += [["37.5", "127.0"]] * 10_000
    path = write_csv(tmp_path / "cams.csv", rows)
    seen: list[int] = []
    import_cameras(connection, path, CameraImportOptions(owner="acme"), seen.append)
    assert seen == sorted(seen) and len(seen) >= 3
    assert seen[-1] == path.stat().st_size


# --- bulk loads ------------------------------------------------------------------------------

SCHEMA_SQL = (
    "SELECT indexdef FROM pg_indexes WHERE tablename = 'cameras' "
    "UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'cameras'::regclass"
)


def schema(conn: Connection) -> list[str]:
    """The definitions of the cameras table's indexes and constraints."""
    return sorted(conn.execute(text(SCHEMA_SQL)).scalars())


@pytest.fixture
def bulk(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Imports of two rows or more into a smaller table take the bulk path; the list says,
    import by import, whether they did."""
    monkeypatch.setattr(loader, "BULK_MIN_ROWS", 2)
    taken: list[bool] = []
    start = loader._start

    def spy(*args: Any) -> Any:
        load = start(*args)
        taken.append(load.bulk)
        return load

    monkeypatch.setattr(loader, "_start", spy)
    return taken


@pytest.mark.usefixtures("bulk")
def test_bulk_load_rebuilds_indexes_and_foreign_key(
    connection: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_org(connection, "acme")
    before = schema(connection)
    path = write_csv(
        tmp_path / "cams.csv",
        [["id", "lat", "lon", "range_m", "ptz"], ["1", "37.5", "127.0", "30", "yes"],
         ["2", "37.6", "127.1", "", ""], ["3", "37.7", "127.2", "", ""]],
    )  # fmt: skip
    dropped: list[str] = []
    real_execute = Connection.execute

    def spy(self: Connection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if str(statement).startswith("DROP INDEX"):
            dropped.append(str(statement))
        return real_execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "execute", spy)
    result = run(connection, path, owner="acme")
    monkeypatch.undo()
    assert (result.records, result.bulk) == (3, True)
    # the geography index cannot be built sorted, so it stays through the load
    assert sorted(dropped) == [
        f"DROP INDEX {name}"
        for name in ("ix_cameras_fov", "ix_cameras_location", "ix_cameras_owner_id",
                     "uq_cameras_owner_external_id")
    ]  # fmt: skip
    assert schema(connection) == before
    assert (
        scalar(
            connection,
            "SELECT count(*) FROM cameras WHERE ST_DWithin(location::geography, "
            "ST_GeogFromText('SRID=4326;POINT(127.0 37.5)'), 10) AND fov IS NOT NULL",
        )
        == 1
    )


CAMERA_COLUMNS = (
    "external_id, c.name, purpose, legal_basis, ST_AsEWKT(location), heading_deg, fov_deg, "
    "range_m, mount_height_m, ptz, vendor, model, firmware, install_year, ai_capable, adapter, "
    "stream_uri, snapshot_uri, status, last_seen_at, retention_days, tags, units, "
    "ST_AsEWKT(fov), o.slug"
)


def stored(conn: Connection) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        text(
            f"SELECT {CAMERA_COLUMNS} FROM cameras c JOIN organizations o ON o.id = c.owner_id "
            "ORDER BY external_id"
        )
    )
    return [tuple(r) for r in rows]


def test_bulk_and_staged_imports_store_the_same_cameras(
    connection: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[list[object]] = [
        ["id", "lat", "lon", "agency", "heading_deg", "fov_deg", "range_m", "ptz", "tags",
         "last_seen_at", "stream_uri", "install_year", "keep_day", "name", "legal_basis"],
        ["A", "37.5", "127.0", "Agency One", "90", "60", "50", "", "gate; north",
         "2024-05-01T10:00:00+09:00", "rtsp://cam.example/1", "2019", "0", "Gate", "PIPA 25"],
        ["B", "37.6", "127.1", "Agency Two", "", "", "80", "yes", "", "", "", "", "30", "", ""],
        ["C", "37.7", "127.2", "Agency One", "", "", "", "", "", "", "", "2020.0", "", "", ""],
    ]  # fmt: skip
    path = write_csv(tmp_path / "cams.csv", rows)
    options: dict[str, Any] = {"owner_column": "agency", "create_owners": DISTRICT}
    with connection.begin_nested() as staged:
        assert not run(connection, path, **options).bulk
        expected = stored(connection)
        staged.rollback()
    monkeypatch.setattr(loader, "BULK_MIN_ROWS", 2)
    assert run(connection, path, **options).bulk
    assert stored(connection) == expected
    assert [r[0] for r in expected] == ["A", "B", "C"]
    assert expected[0][21] == ["gate", "north"] and expected[0][24] == "agency-one"


def test_bulk_load_repeated_id_in_the_file_names_its_line_and_writes_nothing(
    connection: Connection, tmp_path: Path, bulk: list[bool]
) -> None:
    add_org(connection, "acme")
    before, indexes = counts(connection), schema(connection)
    path = write_csv(
        tmp_path / "cams.csv",
        [["id", "lat", "lon", "agency"], ["CAM-1", "37.5", "127.0", "acme"],
         ["CAM-2", "37.5", "127.0", "New Agency"], ["", "37.5", "127.0", "acme"],
         ["CAM-2", "37.5", "127.0", "acme"], ["CAM-2", "37.5", "127.0", "New Agency"],
         ["CAM-1", "37.5", "127.0", "acme"]],
    )  # fmt: skip
    with pytest.raises(ImportFailed) as caught:
        run(connection, path, owner_column="agency", create_owners=DISTRICT)
    assert str(caught.value) == (
        "line 6: external_id 'CAM-2' repeats line 3; give each camera its own id"
    )
    assert bulk == [True]
    assert counts(connection) == before  # no cameras and no organizations
    assert schema(connection) == indexes  # the dropped indexes are back


def test_bulk_load_id_the_owner_already_has(
    connection: Connection, tmp_path: Path, bulk: list[bool]
) -> None:
    add_org(connection, "acme")
    run(connection, write_csv(tmp_path / "a.csv", [["id", "lat", "lon"], ["CAM-7", "37.5", "127"]]),
        owner="acme")  # fmt: skip
    path = write_csv(
        tmp_path / "b.csv",
        [["id", "lat", "lon"], ["CAM-8", "37.5", "127.0"], ["CAM-9", "37.5", "127.0"],
         ["CAM-7", "37.6", "127.1"], ["CAM-7", "37.6", "127.1"]],
    )  # fmt: skip
    with pytest.raises(ImportFailed) as caught:
        run(connection, path, owner="acme")
    assert str(caught.value) == (
        "line 4: acme already has a camera with external_id 'CAM-7'; "
        "drop the row or change that camera through the API"
    )
    assert bulk == [False, True]  # the first import had one row
    assert scalar(connection, "SELECT count(*) FROM cameras") == 1


@pytest.mark.usefixtures("bulk")
def test_bulk_load_skip_invalid_drops_repeats_and_merges_the_rejects(
    connection: Connection, tmp_path: Path
) -> None:
    add_org(connection, "acme")
    run(connection, write_csv(tmp_path / "a.csv", [["id", "lat", "lon"], ["OLD", "37.5", "127"]]),
        owner="acme")  # fmt: skip
    indexes = schema(connection)
    path = write_csv(
        tmp_path / "cams.csv",
        [["id", "lat", "lon", "agency", "count"],
         ["A", "37.50", "127.03", "acme", "2"],
         ["B", "", "127.03", "acme", "1"],
         ["OLD", "37.51", "127.03", "acme", "1"],
         ["A", "37.51", "127.04", "acme", "1"],
         ["R", "37.52", "127.05", "Repeats Only", "5"],
         ["R", "37.52", "127.05", "Repeats Only", "5"],
         ["X", "37.52", "127.05", "acme", "0"],
         ["D", "37.52", "127.05", "acme", "3"]],
    )  # fmt: skip
    rejects = tmp_path / "bad.csv"
    result = run(
        connection,
        path,
        owner_column="agency",
        create_owners=DISTRICT,
        skip_invalid=True,
        rejects=rejects,
    )
    assert result.bulk
    assert (result.records, result.units, result.rejected, result.owners) == (3, 10, 5, 2)
    assert result.created_owners == ["repeats-only"]
    with rejects.open(encoding="utf-8", newline="") as f:
        written = [row[:2] for row in csv.reader(f)]
    assert written == [
        ["line", "reason"],
        ["3", "lat is empty"],
        ["4", "acme already has a camera with external_id 'OLD'; drop the row or change that "
              "camera through the API"],
        ["5", "external_id 'A' repeats line 2; give each camera its own id"],
        ["7", "external_id 'R' repeats line 6; give each camera its own id"],
        ["8", "count '0' is outside 1..100000 (a record stands for 1 or more cameras)"],
    ]  # fmt: skip
    kept = connection.execute(text("SELECT external_id, units FROM cameras")).all()
    assert sorted(kept) == [("A", 2), ("D", 3), ("OLD", 1), ("R", 5)]
    assert schema(connection) == indexes


def test_bulk_load_bad_row_in_a_later_batch_writes_nothing(
    connection: Connection, tmp_path: Path, bulk: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "BATCH", 2)  # the bad row arrives while COPY runs
    add_org(connection, "acme")
    before, indexes = counts(connection), schema(connection)
    rows: list[list[object]] = [["id", "lat", "lon"]]
    rows += [[f"CAM-{n}", "37.5", "127.0"] for n in range(5)]
    rows.append(["CAM-5", "95", "127.0"])
    path = write_csv(tmp_path / "cams.csv", rows)
    with pytest.raises(ImportFailed, match=r"^line 7: lat '95' is outside -90\.\.90"):
        run(connection, path, owner="acme")
    assert bulk == [True]
    assert counts(connection) == before
    assert schema(connection) == indexes


def test_skip_invalid_with_no_valid_row(connection: Connection, tmp_path: Path) -> None:
    add_org(connection, "acme")
    path = write_csv(tmp_path / "cams.csv", [["lat", "lon"], ["x", "127"], ["", "127"]])
    result = run(connection, path, owner="acme", skip_invalid=True)
    assert (result.records, result.units, result.owners, result.rejected) == (0, 0, 0, 2)
    assert result.rejects_path is not None
    assert len(result.rejects_path.read_text(encoding="utf-8").splitlines()) == 3
    assert scalar(connection, "SELECT count(*) FROM cameras") == 0
