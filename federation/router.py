"""The inbound federation API peers call: /federation/v1/inbox (signed CloudEvents batches)
and /federation/v1/schemas (the JSON Schemas of the CloudEvent envelope and of each type's
data, public: they are the contract, not data)."""

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from federation.inbound import SignedCallDep, signed_json, signed_problem
from federation.inbox import InboxPeer, parse_batch, receive
from hub.deps import SessionDep
from hub.errors import Invalid, NotFound, problem_responses
from schemas.federation import EVENT_DATA, CloudEvent, EventType, InboxResult

federation_router = APIRouter(prefix="/federation/v1", tags=["federation"])

SCHEMA_MEDIA_TYPE = "application/schema+json"


@federation_router.post(
    "/inbox",
    response_model=InboxResult,
    responses=problem_responses(401, 403, 413, 422),
)
def inbox(request: Request, call: SignedCallDep, session: SessionDep) -> Response:
    """A peer delivers a batch of CloudEvents (`application/cloudevents-batch+json`, signed
    per RFC 9421). Each event is applied once (source + id); the answer, signed, says which
    were applied, which were already here, and which were refused and why."""
    try:
        raw = json.loads(call.body)
        events, malformed = parse_batch(raw)
    except ValueError as exc:
        return signed_problem(request, call, Invalid(f"body: {exc}", "body"))
    peer = InboxPeer(peer_id=call.peer_id, node_id=call.node_id, name=call.peer_name)
    result = receive(session, peer, events, datetime.now(UTC))
    session.commit()
    if malformed:
        result = InboxResult(
            applied=result.applied,
            duplicates=result.duplicates,
            refused={**result.refused, **malformed},
        )
    return signed_json(request, call, result)


def _schema(model: type[Any], type_: EventType | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    if type_ is not None:
        schema["$id"] = f"/federation/v1/schemas/{type_.value}"
    return schema


def _json(content: dict[str, Any]) -> Response:
    return Response(json.dumps(content, indent=1), media_type=SCHEMA_MEDIA_TYPE)


# Documented as what they are (JSON Schema documents), not FastAPI's default application/json.
_SCHEMA_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON Schema documents",
        "content": {SCHEMA_MEDIA_TYPE: {"schema": {"type": "object"}}},
    }
}


@federation_router.get("/schemas", response_class=Response, responses=_SCHEMA_RESPONSE)
def schemas() -> Response:
    """The CloudEvent envelope's schema, and the `data` schema of every event type."""
    return _json(
        {
            "cloudevent": _schema(CloudEvent),
            "data": {t.value: _schema(m, t) for t, m in EVENT_DATA.items()},
        }
    )


@federation_router.get(
    "/schemas/{type_name}",
    response_class=Response,
    responses={**_SCHEMA_RESPONSE, **problem_responses(404)},
)
def schema(type_name: str) -> Response:
    """The JSON Schema of one event type's `data` (e.g. org.c4hub.plate.read.v1)."""
    try:
        type_ = EventType(type_name)
    except ValueError:
        raise NotFound("Event type", type_name) from None
    model = EVENT_DATA.get(type_)
    if model is None:
        raise NotFound("Schema of event type", type_name)
    return _json(_schema(model, type_))
