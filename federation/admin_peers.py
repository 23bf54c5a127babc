"""Operators' federation API under /api/v1/federation: this node's identity, its peers, and
the federation requests it refused. Peers are admin business: adding one extends trust."""

import uuid
from typing import Annotated

import httpx
from fastapi import APIRouter, Query
from sqlalchemy import select

from federation import peers as service
from federation.models import Rejection
from federation.node import current_fingerprint, node_document
from hub.deps import PrincipalDep, SessionDep, SettingsDep, require
from hub.errors import problem_responses
from schemas.enums import Role
from schemas.federation import NodeOut, PeerCreate, PeerOut, PeerStateChange, RejectionOut

ADMINS = frozenset({Role.ADMIN})

federation_admin_router = APIRouter(
    prefix="/federation", tags=["federation"], responses=problem_responses(401, 403, 422)
)


@federation_admin_router.get("/node", response_model=NodeOut, responses=problem_responses(503))
def get_node(session: SessionDep, settings: SettingsDep, principal: PrincipalDep) -> NodeOut:
    """This node's published document and the fingerprint of its current key: give both to
    a peer's operator (by a channel you trust) so they can add this node."""
    document = node_document(session)
    fingerprint = current_fingerprint(session, settings.data_dir)
    return NodeOut(**document.model_dump(), fingerprint=fingerprint)


@federation_admin_router.get("/peers", response_model=list[PeerOut])
def list_peers(session: SessionDep, principal: PrincipalDep) -> list[PeerOut]:
    require(principal, ADMINS, "read peers")
    return [service.peer_out(session, p) for p in service.list_peers(session)]


@federation_admin_router.post(
    "/peers",
    response_model=PeerOut,
    status_code=201,
    responses=problem_responses(400, 409, 413, 502),
)
def add_peer(
    data: PeerCreate, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> PeerOut:
    """Read URL/.well-known/c4hub and add that node as an active peer, if its current key's
    fingerprint is the one given (case and spaces ignored) and the document is signed by it.
    A mismatch is refused (422) and nothing is stored."""
    require(principal, ADMINS, "add peers")
    with httpx.Client(timeout=settings.federation_timeout_s) as http:
        peer = service.add_peer(session, http, data.url, data.fingerprint)
    out = service.peer_out(session, peer)
    session.commit()
    return out


@federation_admin_router.get(
    "/peers/{peer_id:uuid}", response_model=PeerOut, responses=problem_responses(404)
)
def get_peer(peer_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> PeerOut:
    require(principal, ADMINS, "read peers")
    return service.peer_out(session, service.get_peer(session, peer_id))


@federation_admin_router.post(
    "/peers/{peer_id:uuid}/state",
    response_model=PeerOut,
    responses=problem_responses(400, 404, 413),
)
def change_state(
    peer_id: uuid.UUID, data: PeerStateChange, session: SessionDep, principal: PrincipalDep
) -> PeerOut:
    """Suspend, revoke or reactivate a peer, at once: its keys stop (or start again) to
    verify on the next request; a refused call is answered 403."""
    require(principal, ADMINS, "change peers")
    peer = service.set_state(session, service.get_peer(session, peer_id), data.state, data.reason)
    out = service.peer_out(session, peer)
    session.commit()
    return out


@federation_admin_router.post(
    "/peers/{peer_id:uuid}/refresh",
    response_model=PeerOut,
    responses=problem_responses(404, 502),
)
def refresh_peer(
    peer_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> PeerOut:
    """Re-read the peer's document now (keys, name, address), trusting it only if it is
    signed by a key already known for that peer."""
    require(principal, ADMINS, "refresh peers")
    peer = service.get_peer(session, peer_id)
    with httpx.Client(timeout=settings.federation_timeout_s) as http:
        service.refresh_peer(session, http, peer)
    out = service.peer_out(session, peer)
    session.commit()
    return out


@federation_admin_router.get("/rejections", response_model=list[RejectionOut])
def list_rejections(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RejectionOut]:
    """Federation requests refused, newest first: bad or expired signatures, replays,
    unknown keys, suspended or revoked peers."""
    require(principal, ADMINS, "read federation rejections")
    rows = session.scalars(select(Rejection).order_by(Rejection.at.desc(), Rejection.id.desc()))
    return [
        RejectionOut(
            id=r.id,
            at=r.at,
            status=r.status,
            code=r.code,
            key_id=r.key_id,
            peer_id=r.peer_id,
            method=r.method,
            url=r.url,
            remote=r.remote,
            detail=r.detail,
        )
        for r in rows.fetchmany(limit)
    ]
