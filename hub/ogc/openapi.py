"""How the OGC API describes itself: an OpenAPI 3.0 document at /ogc/api, and the same schemas
converted to OpenAPI 3.1 for the node's FastAPI document. Pure.

OGC clients want 3.0 (GDAL and the OGC test suites look for the media type
application/vnd.oai.openapi+json;version=3.0) and one path per collection, so they can see each
collection's property filters. Schemas are written once, in the 3.0 dialect, and inlined: no
`$ref` leaves the document, and clients that resolve references poorly still understand it.
"""

from collections.abc import Mapping
from typing import Any

from hub.ogc.collections import COLLECTIONS, Collection, PropertyFilter, Schema
from hub.ogc.links import GEOJSON, JSON, OPENAPI_30
from hub.ogc.params import DEFAULT_LIMIT, GEOJSON_FORMATS, JSON_FORMATS, MAX_LIMIT, MAX_OFFSET

PROBLEM_JSON = "application/problem+json"
BEARER = "bearerAuth"


def _string(description: str = "") -> Schema:
    return {"type": "string", "description": description} if description else {"type": "string"}


LINK: Schema = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": _string("Absolute URL"),
        "rel": _string("Relation type"),
        "type": _string("Media type of the target"),
        "hreflang": _string(),
        "title": _string(),
        "length": {"type": "integer"},
    },
}
LINKS: Schema = {"type": "array", "items": LINK}

LANDING_PAGE: Schema = {
    "type": "object",
    "required": ["links"],
    "properties": {"title": _string(), "description": _string(), "links": LINKS},
}

CONFORMANCE: Schema = {
    "type": "object",
    "required": ["conformsTo"],
    "properties": {"conformsTo": {"type": "array", "items": _string()}},
}

EXTENT: Schema = {
    "type": "object",
    "properties": {
        "spatial": {
            "type": "object",
            "properties": {
                "bbox": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "array",
                        "minItems": 4,
                        "maxItems": 6,
                        "items": {"type": "number"},
                    },
                },
                "crs": _string(),
            },
        }
    },
}

COLLECTION: Schema = {
    "type": "object",
    "required": ["id", "links"],
    "properties": {
        "id": _string(),
        "title": _string(),
        "description": _string(),
        "links": LINKS,
        "extent": EXTENT,
        "itemType": _string(),
        "crs": {"type": "array", "items": _string()},
    },
}

COLLECTIONS_DOC: Schema = {
    "type": "object",
    "required": ["links", "collections"],
    "properties": {"links": LINKS, "collections": {"type": "array", "items": COLLECTION}},
}

PROBLEM: Schema = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": _string("URI reference that identifies the problem type"),
        "title": _string(),
        "status": {"type": "integer"},
        "detail": _string(),
        "instance": _string(),
        "invalid_params": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {"name": _string(), "reason": _string()},
            },
        },
    },
}


def geometry(kind: str, nullable: bool) -> Schema:
    """A GeoJSON geometry of one type."""
    schema: Schema = {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"type": "string", "enum": [kind]},
            "coordinates": {"type": "array"},
        },
    }
    if nullable:
        schema["nullable"] = True
    return schema


def feature(properties: Schema, geometry_schema: Schema) -> Schema:
    return {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": _string(),
            "geometry": geometry_schema,
            "properties": properties,
            "links": LINKS,
        },
    }


def feature_collection(feature_schema: Schema) -> Schema:
    return {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": feature_schema},
            "links": LINKS,
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    }


def collection_feature(c: Collection) -> Schema:
    props: Schema = {"type": "object", "properties": c.properties}
    return feature(props, geometry(c.geometry_type, c.geometry_nullable))


# --- parameters ------------------------------------------------------------------------------


def query_param(name: str, schema: Schema, description: str) -> Schema:
    """Form style, not exploded: `bbox=1,2,3,4` (what /req/core/fc-*-definition spell out)."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "style": "form",
        "explode": False,
        "description": description,
    }


def format_param(formats: tuple[str, ...]) -> Schema:
    schema = {"type": "string", "enum": list(formats)}
    return query_param("f", schema, "Encoding; every document here is JSON")


BBOX_PARAM = query_param(
    "bbox",
    {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    "minLon,minLat,maxLon,maxLat in WGS 84 (six numbers add heights, ignored). Features whose "
    "geometry intersects it; minLon > maxLon crosses the antimeridian.",
)
LIMIT_PARAM = query_param(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "Features per page.",
)
OFFSET_PARAM = query_param(
    "offset",
    {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
    "Features to skip; the `next` and `prev` links carry it.",
)
DATETIME_PARAM = query_param(
    "datetime",
    {"type": "string"},
    "RFC 3339 instant or interval. These features have no temporal geometry, so any valid "
    "value matches them all.",
)
FEATURE_ID_PARAM: Schema = {
    "name": "featureId",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
    "description": "The feature's id",
}


def filter_param(f: PropertyFilter) -> Schema:
    return query_param(f.name, f.schema(), f"{f.description}: features whose property equals it")


def items_params(filters: tuple[PropertyFilter, ...]) -> list[Schema]:
    common = [format_param(GEOJSON_FORMATS), BBOX_PARAM, LIMIT_PARAM, OFFSET_PARAM]
    return [*common, DATETIME_PARAM, *(filter_param(f) for f in filters)]


# --- the OpenAPI 3.0 document ----------------------------------------------------------------


def _problem(description: str) -> Schema:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM}}}


def _operation(
    operation_id: str,
    summary: str,
    media_type: str,
    schema: Schema,
    *,
    params: list[Schema] | None = None,
    secured: bool = False,
    can_miss: bool = False,
) -> Schema:
    responses: Schema = {
        "200": {"description": summary, "content": {media_type: {"schema": schema}}},
        "400": _problem("Unknown or invalid query parameter"),
    }
    if secured:
        responses["401"] = _problem("Missing, unknown or revoked token")
    if can_miss:
        responses["404"] = _problem("No such collection or feature")
    responses["default"] = _problem("Unexpected error")
    op: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["ogc"],
        "parameters": params if params is not None else [format_param(JSON_FORMATS)],
        "responses": responses,
    }
    if secured:
        op["security"] = [{BEARER: []}]
    return op


def _collection_paths(c: Collection, secured: bool) -> dict[str, Schema]:
    base = f"/collections/{c.id}"
    one = collection_feature(c)
    name = c.id.replace("-", "_")
    return {
        base: {
            "get": _operation(
                f"describe_{name}", f"About {c.title}", JSON, COLLECTION, secured=secured
            )
        },
        f"{base}/items": {
            "get": _operation(
                f"get_{name}",
                f"{c.title}, one page",
                GEOJSON,
                feature_collection(one),
                params=items_params(c.filters),
                secured=secured,
            )
        },
        f"{base}/items/{{featureId}}": {
            "get": _operation(
                f"get_{name}_feature",
                f"One of {c.title}",
                GEOJSON,
                one,
                params=[FEATURE_ID_PARAM, format_param(GEOJSON_FORMATS)],
                secured=secured,
                can_miss=True,
            )
        },
    }


def document(
    server_url: str,
    version: str,
    secured: bool,
    collections: Mapping[str, Collection] = COLLECTIONS,
    description: str = "The camera registry as OGC API - Features Part 1 (Core, GeoJSON).",
) -> Schema:
    """The OpenAPI 3.0 definition of the OGC API at `server_url` (/req/oas30/oas-definition-1)."""
    paths: dict[str, Schema] = {
        "/": {"get": _operation("landing_page", "Landing page", JSON, LANDING_PAGE)},
        "/conformance": {
            "get": _operation("conformance", "Conformance classes", JSON, CONFORMANCE)
        },
        "/api": {"get": _operation("api", "This API definition", OPENAPI_30, {"type": "object"})},
        "/collections": {
            "get": _operation(
                "collections", "The feature collections", JSON, COLLECTIONS_DOC, secured=secured
            )
        },
    }
    for c in collections.values():
        paths.update(_collection_paths(c, secured))
    doc: Schema = {
        "openapi": "3.0.3",
        "info": {
            "title": "c4hub OGC API - Features",
            "version": version,
            "description": description,
            "license": {
                "name": "AGPL-3.0-or-later",
                "url": "https://www.gnu.org/licenses/agpl-3.0.html",
            },
        },
        "servers": [{"url": server_url}],
        "paths": paths,
    }
    if secured:
        doc["components"] = {
            "securitySchemes": {BEARER: {"type": "http", "scheme": "bearer"}},
        }
    return doc


# --- OpenAPI 3.1 for FastAPI's document ------------------------------------------------------


def to_oas31(node: Any) -> Any:
    """3.0 `nullable: true` becomes a JSON Schema type list with "null" (3.1 dropped nullable)."""
    if isinstance(node, list):
        return [to_oas31(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_oas31(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True and "type" in node:
        out["type"] = [node["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def fastapi_response(media_type: str, schema: Schema, description: str) -> dict[int | str, Any]:
    content = {media_type: {"schema": to_oas31(schema)}}
    return {200: {"description": description, "content": content}}
