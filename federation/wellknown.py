"""Public federation endpoints: the node document at /.well-known/c4hub (mounted without a
prefix) and the signed ping at /federation/v1/ping that operators use to test a link.

The document's response is signed with the current key and bound to the URL it was asked at
(anyone may fetch it before peering, by whatever address they were given); the fingerprint
check in `add_peer` is what makes that signature meaningful.
"""

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response

from federation.inbound import SignedCallDep, signed_json
from federation.node import local_node, node_document, signing_key
from federation.signing import sign_response
from hub.deps import SessionDep, SettingsDep
from hub.errors import problem_responses
from schemas.federation import NodeDocument, PingReply

wellknown_router = APIRouter(tags=["federation"])
ping_router = APIRouter(prefix="/federation/v1", tags=["federation"])


@wellknown_router.get(
    "/.well-known/c4hub",
    response_model=NodeDocument,
    responses=problem_responses(503),
)
def well_known(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Who this node is and the public keys it signs with (current, next, and previous ones
    still inside their overlap). The response carries an RFC 9421 signature by the current
    key over @status, the request's method, URI and authority, content-type and
    content-digest. Private keys are never served."""
    body = node_document(session).model_dump_json().encode()
    key = signing_key(session, settings.data_dir)
    headers = {"Content-Type": "application/json"}
    headers |= sign_response(
        200,
        headers,
        body,
        key,
        request_method=request.method,
        request_url=str(request.url),
        lifetime=timedelta(seconds=settings.federation_signature_lifetime_s),
    )
    return Response(content=body, status_code=200, headers=headers)


@ping_router.post(
    "/ping",
    response_model=PingReply,
    responses=problem_responses(400, 401, 403, 413, 503),
)
def ping(request: Request, call: SignedCallDep, session: SessionDep) -> Response:
    """Answer a signed call with who the caller was recognised as, signed: proof that the
    link works both ways (`c4hub peer ping NODE_ID`)."""
    reply = PingReply(
        node_id=local_node(session).node_id,
        caller_node_id=call.node_id,
        caller_name=call.peer_name,
        at=datetime.now(UTC),
    )
    return signed_json(request, call, reply)
