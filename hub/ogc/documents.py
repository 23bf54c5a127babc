"""The JSON documents of OGC API - Features Part 1, built from plain values. Pure."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hub.ogc.collections import Collection
from hub.ogc.links import GEOJSON, JSON, OPENAPI_30, Link, Urls, link
from hub.ogc.service import BBoxTuple, Feature, Page

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
WORLD: BBoxTuple = (-180.0, -90.0, 180.0, 90.0)

# Only what is implemented: GeoJSON is the one encoding, /ogc/api the OpenAPI 3.0 definition.
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)

Document = dict[str, Any]


REGISTRY_TITLE = "c4hub camera registry"
REGISTRY_DESCRIPTION = "Cameras, their fields of view and their owners as OGC API - Features."


def landing(
    urls: Urls,
    extra_links: Sequence[Link] = (),
    title: str = REGISTRY_TITLE,
    description: str = REGISTRY_DESCRIPTION,
) -> Document:
    return {
        "title": title,
        "description": description,
        "links": [
            link(urls.landing, "self", JSON, "This document"),
            link(urls.api, "service-desc", OPENAPI_30, "The API definition (OpenAPI 3.0)"),
            *extra_links,
            link(urls.conformance, "conformance", JSON, "Conformance classes implemented"),
            link(urls.collections, "data", JSON, "The feature collections"),
        ],
    }


def conformance() -> Document:
    return {"conformsTo": list(CONFORMANCE)}


def collection(urls: Urls, c: Collection, bbox: BBoxTuple | None) -> Document:
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [list(bbox or WORLD)], "crs": CRS84}},
        "links": [
            link(urls.collection(c.id), "self", JSON, "This collection"),
            link(urls.items(c.id), "items", GEOJSON, f"{c.title} as GeoJSON"),
        ],
    }


def collections(urls: Urls, entries: Sequence[Document]) -> Document:
    return {
        "links": [link(urls.collections, "self", JSON, "This document")],
        "collections": list(entries),
    }


def _feature(f: Feature) -> Document:
    return {"type": "Feature", "id": f.id, "geometry": f.geometry, "properties": f.properties}


def feature_collection(page: Page, links: list[Link], now: datetime | None = None) -> Document:
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "type": "FeatureCollection",
        "timeStamp": stamp,
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
        "features": [_feature(f) for f in page.features],
        "links": links,
    }


def feature(urls: Urls, collection_id: str, f: Feature) -> Document:
    return {
        **_feature(f),
        "links": [
            link(urls.item(collection_id, f.id), "self", GEOJSON, "This feature"),
            link(urls.collection(collection_id), "collection", JSON, "The collection"),
        ],
    }
