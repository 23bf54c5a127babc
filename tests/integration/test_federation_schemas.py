"""/federation/v1/schemas: the CloudEvent envelope and each event type's data, as JSON Schema
that an independent validator (jsonschema) applies to what a node really sends."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import jsonschema  # type: ignore[import-untyped]  # no stubs installed
from fastapi.testclient import TestClient

from federation.delivery import cloud_event
from schemas.federation import EVENT_DATA, EventType, HotlistEntryRevokedData, node_source


def test_index_lists_every_type(client: TestClient) -> None:
    reply = client.get("/federation/v1/schemas")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/schema+json")
    index = reply.json()
    assert set(index["data"]) == {t.value for t in EVENT_DATA}
    assert index["cloudevent"]["properties"]["specversion"]["const"] == "1.0"
    jsonschema.Draft202012Validator.check_schema(index["cloudevent"])


def test_one_type_validates_a_real_event(client: TestClient) -> None:
    type_ = EventType.HOTLIST_ENTRY_REVOKED
    schema = client.get(f"/federation/v1/schemas/{type_.value}").json()
    assert schema["$id"] == f"/federation/v1/schemas/{type_.value}"
    jsonschema.Draft202012Validator.check_schema(schema)
    data = HotlistEntryRevokedData(entry_id=uuid.uuid4(), revoked_at=datetime.now(UTC))
    row = SimpleNamespace(
        outbox_id=uuid.uuid4(),
        type=type_.value,
        subject=None,
        time=datetime.now(UTC),
        data=data.model_dump(mode="json"),
    )
    event = cloud_event(node_source(uuid.uuid4()), row)  # type: ignore[arg-type]
    envelope = client.get("/federation/v1/schemas").json()["cloudevent"]
    jsonschema.validate(event, envelope)
    jsonschema.validate(event["data"], schema)
    bad = {**event["data"], "entry_id": 5}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))


def test_unknown_type_is_404(client: TestClient) -> None:
    reply = client.get("/federation/v1/schemas/org.c4hub.nothing.v1")
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"


def test_every_event_type_has_its_data_schema(client: TestClient) -> None:
    for type_ in EventType:
        reply = client.get(f"/federation/v1/schemas/{type_.value}")
        assert reply.status_code == 200, type_
        assert reply.json()["$id"] == f"/federation/v1/schemas/{type_.value}"
