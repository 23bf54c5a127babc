"""Organization import into PostGIS: Seoul's districts, upserts, bad polygons, all or nothing."""

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from hub.imports.errors import ImportFailed
from hub.imports.loader import CameraImportOptions, import_cameras
from hub.imports.organizations import OrganizationImportOptions, import_organizations
from schemas.enums import OrganizationKind

DISTRICTS = OrganizationImportOptions(kind=OrganizationKind.DISTRICT)


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def collection(path: Path, *features: tuple[dict[str, Any], dict[str, Any] | None]) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": p, "geometry": g} for p, g in features
                ],
            }
        )
    )
    return path


def org_count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM organizations")).scalar_one())


def test_seoul_districts_and_reimport(connection: Connection, data_dir: Path) -> None:
    source = data_dir / "seoul" / "seoul_gu_2013.geojson"
    before = org_count(connection)
    first = import_organizations(connection, source, DISTRICTS)
    assert (first.created, first.updated) == (25, 0)
    gangnam = connection.execute(
        text(
            "SELECT name, kind, GeometryType(jurisdiction), ST_SRID(jurisdiction), "
            "ST_IsValid(jurisdiction) FROM organizations WHERE slug = '11230'"
        )
    ).one()
    assert tuple(gangnam) == ("강남구", "district", "MULTIPOLYGON", 4326, True)

    again = import_organizations(
        connection, source, OrganizationImportOptions(kind=OrganizationKind.DISTRICT,
                                                      name_property="name_eng")
    )  # fmt: skip
    assert (again.created, again.updated) == (0, 25)
    assert org_count(connection) == before + 25
    name = connection.execute(text("SELECT name FROM organizations WHERE slug = '11230'"))
    assert name.scalar_one() == "Gangnam-gu"


def test_gangnam_jurisdiction_covers_gangnam_cameras(
    connection: Connection, data_dir: Path
) -> None:
    seoul = data_dir / "seoul"
    import_organizations(connection, seoul / "seoul_gu_2013.geojson", DISTRICTS)
    import_cameras(
        connection,
        seoul / "gangnam_cctv.csv",
        CameraImportOptions(owner_column="mng_name", create_owners=OrganizationKind.DISTRICT),
    )
    covered, total = connection.execute(
        text(
            "SELECT count(*) FILTER (WHERE ST_Covers(g.jurisdiction, c.location)), count(*) "
            "FROM cameras c, organizations g WHERE g.slug = '11230'"
        )
    ).one()
    assert total == 1763 and covered >= 0.95 * total
    # the row attributed to Dongjak-gu's office sits in Gangnam, not in Dongjak (11200)
    inside = connection.execute(
        text(
            "SELECT g.slug FROM cameras c JOIN organizations o ON o.id = c.owner_id "
            "JOIN organizations g ON ST_Covers(g.jurisdiction, c.location) "
            "WHERE o.name = '서울특별시 동작구청'"
        )
    ).scalars()
    assert list(inside) == ["11230"]


def test_bad_polygon_aborts_with_the_feature_number(connection: Connection, tmp_path: Path) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[127.0, 37.5], [127.1, 37.6], [127.1, 37.5], [127.0, 37.6], [127.0, 37.5]]
        ],
    }
    path = collection(
        tmp_path / "areas.geojson",
        ({"slug": "north", "name": "North"}, square(127.0, 37.6)),
        ({"slug": "south", "name": "South"}, square(127.0, 37.4)),
        ({"slug": "twisted", "name": "Twisted"}, bowtie),
    )
    before = org_count(connection)
    with pytest.raises(ImportFailed) as caught:
        import_organizations(connection, path, DISTRICTS)
    assert str(caught.value).startswith(
        "feature 3: invalid polygon: Self-intersection[127.05 37.55]; fix the geometry"
    )
    assert org_count(connection) == before  # features 1 and 2 were not kept either


def test_repeated_slug_in_the_file(connection: Connection, tmp_path: Path) -> None:
    path = collection(
        tmp_path / "areas.geojson",
        ({"code": "A1", "name": "One"}, square(127.0, 37.6)),
        ({"code": "a1", "name": "Two"}, square(127.0, 37.4)),
    )
    with pytest.raises(ImportFailed, match="feature 2: slug 'a1' repeats feature 1"):
        import_organizations(connection, path, DISTRICTS)


def test_points_are_not_areas_and_csv_is_not_geojson(
    connection: Connection, tmp_path: Path
) -> None:
    path = collection(
        tmp_path / "areas.geojson",
        ({"slug": "x", "name": "X"}, {"type": "Point", "coordinates": [127.0, 37.5]}),
    )
    with pytest.raises(ImportFailed, match="feature 1: geometry must be a Polygon or MultiPolygon"):
        import_organizations(connection, path, DISTRICTS)
    csv_path = tmp_path / "areas.csv"
    csv_path.write_text("slug,name\nx,X\n")
    with pytest.raises(ImportFailed, match="is not GeoJSON"):
        import_organizations(connection, csv_path, DISTRICTS)
