"""The OpenAPI descriptions of the OGC API, and that every declared filter has SQL behind it."""

from typing import Any

from hub.ogc import openapi
from hub.ogc.collections import COLLECTIONS
from hub.ogc.service import SOURCES


def _walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [d for value in node.values() for d in _walk(value)]
    if isinstance(node, list):
        return [d for item in node for d in _walk(item)]
    return []


def test_every_collection_and_filter_has_a_source() -> None:
    assert set(SOURCES) == set(COLLECTIONS)
    for c in COLLECTIONS.values():
        assert {f.name for f in c.filters} == set(SOURCES[c.id].filters)


def test_filters_are_properties_of_their_features() -> None:
    # OGC clients (GDAL) push `name=value` down only when `name` is a feature property.
    for c in COLLECTIONS.values():
        assert {f.name for f in c.filters} <= set(c.properties)


def test_document_has_a_path_per_collection() -> None:
    doc = openapi.document("https://hub.example.org/ogc", "1.2.3", secured=True)
    assert doc["openapi"] == "3.0.3" and doc["info"]["version"] == "1.2.3"
    for c in COLLECTIONS.values():
        items = doc["paths"][f"/collections/{c.id}/items"]["get"]
        names = [p["name"] for p in items["parameters"]]
        assert names[:5] == ["f", "bbox", "limit", "offset", "datetime"]
        assert names[5:] == [f.name for f in c.filters]
        assert set(items["responses"]) == {"200", "400", "401", "default"}
        one = doc["paths"][f"/collections/{c.id}/items/{{featureId}}"]["get"]
        assert "404" in one["responses"]
    assert "security" not in doc["paths"]["/"]["get"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_public_document_has_no_security() -> None:
    doc = openapi.document("http://x/ogc", "1", secured=False)
    assert "components" not in doc
    assert not any("security" in d or "401" in d for d in _walk(doc["paths"]))


def test_document_is_self_contained_openapi_30() -> None:
    doc = openapi.document("http://x/ogc", "1", secured=True)
    nodes = _walk(doc)
    assert not any("$ref" in n for n in nodes)
    # 3.0 has no type lists and no "null" type; nullable is its spelling.
    assert not any(isinstance(n.get("type"), list) or n.get("type") == "null" for n in nodes)


def test_to_oas31_turns_nullable_into_type_lists() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "nullable": True},
            "kind": {"type": "string", "enum": ["a"], "nullable": True},
            "n": {"type": "integer"},
        },
    }
    assert openapi.to_oas31(schema) == {
        "type": "object",
        "properties": {
            "name": {"type": ["string", "null"]},
            "kind": {"type": ["string", "null"], "enum": ["a", None]},
            "n": {"type": "integer"},
        },
    }


def test_fastapi_schemas_have_no_nullable_left() -> None:
    schema = openapi.collection_feature(COLLECTIONS["organizations"])
    response = openapi.fastapi_response("application/geo+json", schema, "x")
    nodes = _walk(response)
    assert not any("nullable" in n for n in nodes)
    feature = response[200]["content"]["application/geo+json"]["schema"]["properties"]
    assert feature["geometry"]["type"] == ["object", "null"]
