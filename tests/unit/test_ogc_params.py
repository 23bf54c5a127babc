"""Query parameter parsing of the OGC API: every mistake is a 400 that names the parameter."""

import pytest

from hub.errors import BadRequest
from hub.ogc.collections import COLLECTIONS, PropertyFilter
from hub.ogc.params import (
    MAX_LIMIT,
    ItemsQuery,
    check_datetime,
    parse_items_query,
    parse_limit,
    parse_offset,
    single_values,
)
from hub.registry.params import BBox

CAMERAS = COLLECTIONS["cameras"]
ORGANIZATIONS = COLLECTIONS["organizations"]


def _bad(pairs: list[tuple[str, str]], collection_id: str = "cameras") -> BadRequest:
    with pytest.raises(BadRequest) as info:
        parse_items_query(pairs, COLLECTIONS[collection_id])
    assert info.value.status == 400
    return info.value


def _param(exc: BadRequest) -> str:
    assert exc.invalid_params is not None
    return exc.invalid_params[0]["name"]


# --- bbox ------------------------------------------------------------------------------------


# --- limit, offset, datetime -----------------------------------------------------------------


def test_limit_range() -> None:
    assert parse_limit("1") == 1
    assert parse_limit(str(MAX_LIMIT)) == MAX_LIMIT


@pytest.mark.parametrize("text", ["0", "-3", "ten", "2.5", "", str(MAX_LIMIT + 1)])
def test_limit_errors(text: str) -> None:
    with pytest.raises(ValueError, match="limit"):
        parse_limit(text)


def test_offset() -> None:
    assert parse_offset("0") == 0 and parse_offset("40") == 40
    for text in ("-1", "x", str(2**63)):
        with pytest.raises(ValueError, match="offset"):
            parse_offset(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00+09:00",
        "2024-01-01/2024-12-31",
        "../2024-12-31",
        "2024-01-01/..",
        "/2024-12-31",
    ],
)
def test_datetime_accepted(text: str) -> None:
    check_datetime(text)


@pytest.mark.parametrize("text", ["", "..", "yesterday", "2024-13-01", "a/b", "1/2/3"])
def test_datetime_errors(text: str) -> None:
    with pytest.raises(ValueError, match="datetime"):
        check_datetime(text)


# --- whole queries ---------------------------------------------------------------------------


def test_defaults() -> None:
    assert parse_items_query([], CAMERAS) == ItemsQuery(bbox=None, limit=10, offset=0, filters={})


def test_full_query_is_typed() -> None:
    q = parse_items_query(
        [
            ("f", "geojson"),
            ("bbox", "127,37,128,38"),
            ("limit", "50"),
            ("offset", "100"),
            ("datetime", "2024-01-01/.."),
            ("purpose", "traffic"),
            ("ai_capable", "1"),
            ("ptz", "false"),
            ("install_year", "2019"),
        ],
        CAMERAS,
    )
    assert q.bbox == BBox(127, 37, 128, 38)
    assert (q.limit, q.offset) == (50, 100)
    assert q.filters == {
        "purpose": "traffic",
        "ai_capable": True,
        "ptz": False,
        "install_year": 2019,
    }


@pytest.mark.parametrize(
    ("pairs", "name"),
    [
        ([("ooga", "booga")], "ooga"),
        ([("limit", "1"), ("limit", "2")], "limit"),
        ([("f", "html")], "f"),
        ([("bbox", "1,2")], "bbox"),
        ([("limit", "unlimited")], "limit"),
        ([("offset", "-1")], "offset"),
        ([("datetime", "soon")], "datetime"),
        ([("purpose", "spying")], "purpose"),
        ([("ai_capable", "yes")], "ai_capable"),
        ([("install_year", "1.5")], "install_year"),
        ([("vendor", "")], "vendor"),
        ([("kind", "district")], "kind"),  # an organizations filter
    ],
)
def test_query_errors_name_the_parameter(pairs: list[tuple[str, str]], name: str) -> None:
    assert _param(_bad(pairs)) == name


def test_filters_belong_to_their_collection() -> None:
    q = parse_items_query([("kind", "district"), ("slug", "north-gu")], ORGANIZATIONS)
    assert q.filters == {"kind": "district", "slug": "north-gu"}
    assert _param(_bad([("purpose", "traffic")], "organizations")) == "purpose"


def test_single_values_lists_what_is_accepted() -> None:
    assert single_values([("f", "json")], {"f"}) == {"f": "json"}
    with pytest.raises(BadRequest, match="accepted: f"):
        single_values([("x", "1")], {"f"})


def test_property_filter_parse() -> None:
    flag = PropertyFilter("ptz", "boolean", "PTZ")
    assert [flag.parse(v) for v in ("true", "1", "false", "0")] == [True, True, False, False]
    year = PropertyFilter("install_year", "integer", "Year")
    assert year.parse("2020") == 2020
    with pytest.raises(ValueError, match="out of range"):
        year.parse(str(2**31))
    vendor = PropertyFilter("vendor", "string", "Vendor")
    with pytest.raises(ValueError, match="NUL"):
        vendor.parse("Ax\x00is")
    kind = PropertyFilter("kind", "string", "Kind", ("a", "b"))
    assert kind.parse("a") == "a"
    with pytest.raises(ValueError, match="kind must be one of: a, b"):
        kind.parse("c")
