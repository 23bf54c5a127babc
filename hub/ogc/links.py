"""Absolute URLs and link objects of the OGC API documents. Pure: no request, no database."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
OPENAPI_31 = "application/vnd.oai.openapi+json;version=3.1"
HTML = "text/html"

Link = dict[str, Any]


def link(href: str, rel: str, media_type: str, title: str | None = None) -> Link:
    """Every link carries rel and type (/req/core/fc-links and friends check both)."""
    out: Link = {"href": href, "rel": rel, "type": media_type}
    if title:
        out["title"] = title
    return out


@dataclass(frozen=True)
class Urls:
    """The API's URLs under `root`, the landing page's absolute URL without a trailing slash."""

    root: str

    @property
    def landing(self) -> str:
        return self.root

    @property
    def conformance(self) -> str:
        return f"{self.root}/conformance"

    @property
    def api(self) -> str:
        return f"{self.root}/api"

    @property
    def collections(self) -> str:
        return f"{self.root}/collections"

    def collection(self, collection_id: str) -> str:
        return f"{self.collections}/{quote(collection_id, safe='')}"

    def items(self, collection_id: str, params: Mapping[str, str] | None = None) -> str:
        url = f"{self.collection(collection_id)}/items"
        return f"{url}?{urlencode(params)}" if params else url

    def item(self, collection_id: str, feature_id: str) -> str:
        return f"{self.collection(collection_id)}/items/{quote(feature_id, safe='')}"


def page_links(
    urls: Urls,
    collection_id: str,
    params: Mapping[str, str],
    *,
    limit: int,
    offset: int,
    matched: int,
) -> list[Link]:
    """self, plus next/prev when there are more features after/before this page.

    Next and prev keep every filter of the request and move `offset` by `limit`; GDAL and QGIS
    page by following `next` until it is absent.
    """

    def at(new_offset: int) -> str:
        moved = {**params, "limit": str(limit), "offset": str(new_offset)}
        if new_offset == 0:
            moved.pop("offset")
        return urls.items(collection_id, moved)

    links = [
        link(urls.items(collection_id, params), "self", GEOJSON, "This page"),
        link(urls.collection(collection_id), "collection", JSON, "The collection"),
    ]
    if offset + limit < matched:
        links.append(link(at(offset + limit), "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(link(at(max(offset - limit, 0)), "prev", GEOJSON, "Previous page"))
    return links
