"""Organization features → organizations: slug, name, kind and area rules. Pure, no I/O."""

import pytest

from hub.imports.organizations import OrganizationImportOptions, organization_of
from hub.imports.rows import RowError
from schemas.enums import OrganizationKind

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[127.0, 37.5], [127.1, 37.5], [127.1, 37.6], [127.0, 37.6], [127.0, 37.5]]],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[127.0, 37.5], [127.1, 37.6], [127.1, 37.5], [127.0, 37.6], [127.0, 37.5]]],
}
SEOUL_GU = {"code": "11230", "name": "강남구", "name_eng": "Gangnam-gu", "base_year": "2013"}
DISTRICTS = OrganizationImportOptions(kind=OrganizationKind.DISTRICT)


def test_seoul_district() -> None:
    org = organization_of(SEOUL_GU, SQUARE, DISTRICTS)
    assert (org.slug, org.name, org.kind) == ("11230", "강남구", OrganizationKind.DISTRICT)
    assert org.jurisdiction.startswith("SRID=4326;MULTIPOLYGON (((127")


@pytest.mark.parametrize(
    ("properties", "slug"),
    [
        ({"slug": "gangnam", "code": "11230", "name": "강남구"}, "gangnam"),
        ({"name": "강남구", "name_eng": "Gangnam-gu"}, "gangnam-gu"),
        ({"name": "Seoul Metropolitan Police"}, "seoul-metropolitan-police"),
        ({"code": "Gu 11"}, "gu-11"),  # not a slug yet: slugified
    ],
)
def test_slug_sources_in_order(properties: dict[str, object], slug: str) -> None:
    properties = {"name": "x", **properties}
    assert organization_of(properties, SQUARE, DISTRICTS).slug == slug


def test_korean_name_without_code_gets_a_hash_slug() -> None:
    slug = organization_of({"name": "강남구"}, SQUARE, DISTRICTS).slug
    assert slug.startswith("org-") and len(slug) == 12


def test_chosen_properties() -> None:
    options = OrganizationImportOptions(
        slug_property="name_eng", name_property="name_eng", kind_property="type"
    )
    org = organization_of({**SEOUL_GU, "type": "Municipality"}, SQUARE, options)
    assert (org.slug, org.name, org.kind) == ("gangnam-gu", "Gangnam-gu", "municipality")


@pytest.mark.parametrize(
    ("properties", "options", "reason"),
    [
        (SEOUL_GU, OrganizationImportOptions(), "no kind; pass --kind KIND"),
        ({"code": "1"}, DISTRICTS, "no name (looked for name, name_eng, name_en)"),
        (SEOUL_GU, OrganizationImportOptions(slug_property="id"), "property 'id' (the slug)"),
        (
            {**SEOUL_GU, "type": "kingdom"},
            OrganizationImportOptions(kind_property="type"),
            "kind 'kingdom' in 'type' is not one of: municipality",
        ),
        ({**SEOUL_GU, "name": "x" * 201}, DISTRICTS, "is 201 characters; at most 200"),
    ],
)
def test_refusals_say_why(
    properties: dict[str, object], options: OrganizationImportOptions, reason: str
) -> None:
    with pytest.raises(RowError) as caught:
        organization_of(properties, SQUARE, options)
    assert reason in str(caught.value)


def test_self_intersection_is_refused_with_shapely_reason() -> None:
    with pytest.raises(RowError) as caught:
        organization_of(SEOUL_GU, BOWTIE, DISTRICTS)
    assert "invalid polygon: Self-intersection[127.05 37.55]" in str(caught.value)
    assert "ST_MakeValid" in str(caught.value)


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ({"type": "Point", "coordinates": [127.0, 37.5]}, "must be a Polygon or MultiPolygon"),
        (None, "must be a Polygon or MultiPolygon, not None"),
        (
            {"type": "Polygon", "coordinates": [[[127.0, 37.5], [127.1, 37.5], [127.1, 37.6]]]},
            "geometry coordinates.0: List should have at least 4 items",
        ),
        (
            {"type": "Polygon", "coordinates": [[[127, 37], [128, 37], [128, 38], [127, 36]]]},
            "a linear ring must be closed",
        ),
    ],
)
def test_bad_geometries_are_refused(geometry: object, reason: str) -> None:
    with pytest.raises(RowError) as caught:
        organization_of(SEOUL_GU, geometry, DISTRICTS)
    assert reason in str(caught.value)


def test_polygon_becomes_multipolygon_and_multipolygon_stays() -> None:
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}
    assert organization_of(SEOUL_GU, multi, DISTRICTS).jurisdiction.startswith(
        "SRID=4326;MULTIPOLYGON"
    )
