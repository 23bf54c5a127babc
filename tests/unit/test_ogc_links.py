"""Links and documents of the OGC API: absolute URLs, paging links, the JSON shapes."""

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from hub.ogc import documents
from hub.ogc.collections import COLLECTIONS
from hub.ogc.links import Link, Urls, page_links
from hub.ogc.service import Feature, Page, number_matched

URLS = Urls("https://hub.example.org/ogc")


def _rels(links: list[Link]) -> dict[str, Link]:
    return {link["rel"]: link for link in links}


def _query(href: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(href).query))


def test_urls_are_absolute_and_quoted() -> None:
    assert URLS.collections == "https://hub.example.org/ogc/collections"
    assert URLS.items("camera-fov") == "https://hub.example.org/ogc/collections/camera-fov/items"
    assert URLS.item("cameras", "a/b") == (
        "https://hub.example.org/ogc/collections/cameras/items/a%2Fb"
    )
    assert URLS.items("cameras", {"owner": "a&b"}).endswith("items?owner=a%26b")


def test_first_page_links_next_only() -> None:
    links = _rels(page_links(URLS, "cameras", {}, limit=10, offset=0, matched=25))
    assert set(links) == {"self", "collection", "next"}
    assert links["self"]["href"] == URLS.items("cameras")
    assert _query(links["next"]["href"]) == {"limit": "10", "offset": "10"}
    assert all(link["type"] for link in links.values())


def test_middle_page_keeps_filters_both_ways() -> None:
    params = {"purpose": "traffic", "bbox": "1,2,3,4", "limit": "5", "offset": "10"}
    links = _rels(page_links(URLS, "cameras", params, limit=5, offset=10, matched=30))
    assert _query(links["next"]["href"]) == {**params, "offset": "15"}
    assert _query(links["prev"]["href"]) == {**params, "offset": "5"}
    assert _query(links["self"]["href"]) == params


def test_last_page_links_prev_only_and_prev_stops_at_zero() -> None:
    links = _rels(page_links(URLS, "cameras", {"offset": "3"}, limit=10, offset=3, matched=13))
    assert "next" not in links
    assert _query(links["prev"]["href"]) == {"limit": "10"}  # offset 0 is the default


def test_exact_end_has_no_next() -> None:
    links = _rels(page_links(URLS, "cameras", {}, limit=10, offset=10, matched=20))
    assert "next" not in links and "prev" in links


def test_number_matched_is_known_from_a_short_page() -> None:
    assert number_matched(offset=0, limit=10, returned=3) == 3
    assert number_matched(offset=0, limit=10, returned=0) == 0
    assert number_matched(offset=20, limit=10, returned=4) == 24
    assert number_matched(offset=0, limit=10, returned=10) is None  # maybe more
    assert number_matched(offset=50, limit=10, returned=0) is None  # past the end


def test_landing_page_links() -> None:
    doc = documents.landing(URLS)
    rels = {link["rel"] for link in doc["links"]}
    assert rels == {"self", "service-desc", "conformance", "data"}


def test_collection_document_defaults_to_the_world() -> None:
    doc = documents.collection(URLS, COLLECTIONS["cameras"], None)
    assert doc["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]
    assert doc["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    doc = documents.collection(URLS, COLLECTIONS["cameras"], (1.0, 2.0, 3.0, 4.0))
    assert doc["extent"]["spatial"]["bbox"] == [[1.0, 2.0, 3.0, 4.0]]


def test_feature_collection_document() -> None:
    point = {"type": "Point", "coordinates": [127.0, 37.5]}
    page = Page(features=[Feature("f1", point, {"name": "A"})], matched=7)
    now = datetime(2024, 5, 1, 12, 30, 15, 999, tzinfo=UTC)
    doc = documents.feature_collection(page, [], now)
    assert doc["timeStamp"] == "2024-05-01T12:30:15Z"
    assert (doc["numberMatched"], doc["numberReturned"]) == (7, 1)
    assert doc["features"] == [
        {"type": "Feature", "id": "f1", "geometry": point, "properties": {"name": "A"}}
    ]


def test_single_feature_document_links_back() -> None:
    doc = documents.feature(URLS, "organizations", Feature("o1", None, {"slug": "x"}))
    assert doc["geometry"] is None
    assert _rels(doc["links"])["collection"]["href"] == URLS.collection("organizations")
    assert _rels(doc["links"])["self"]["href"] == URLS.item("organizations", "o1")
