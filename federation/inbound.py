"""Signed inbound federation calls: the FastAPI dependency that verifies them, and the signed
response that answers them.

The target URI a peer signed is rebuilt from this node's published api_base (scheme and
authority) and the request's path, not from the Host header: a request signed for another
node, or one passed through a proxy, is judged by the address peers were told to use.
Every refusal is stored in federation_rejections (committed at once), logged on
"c4hub.federation" and answered with an unsigned problem: 401 for signature faults, 403 when
the key belongs to a suspended or revoked peer.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, NoReturn
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session

from federation.identity import SigningKey
from federation.models import Rejection
from federation.node import local_node, signing_key
from federation.signing import SignatureRejected, sign_response, verify_request
from federation.trust import KeyOwner, PgKeyResolver, PgNonceCache
from hub.deps import SessionDep, SettingsDep
from hub.errors import PROBLEM_MEDIA_TYPE, TYPE_BASE, Forbidden, ProblemError, Unauthorized
from hub.settings import Settings

log = logging.getLogger("c4hub.federation")


@dataclass(frozen=True)
class SignedCall:
    """A verified call from an active peer, with what is needed to sign the answer."""

    peer_id: uuid.UUID
    node_id: uuid.UUID
    peer_name: str
    body: bytes
    key_id: str
    method: str
    target_uri: str
    signer: SigningKey
    lifetime: timedelta


@dataclass(frozen=True)
class _Incoming:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    remote: str | None


def target_uri(api_base: str, path: str, query: str) -> str:
    base = urlsplit(api_base)
    return urlunsplit((base.scheme, base.netloc, path, query, ""))


async def signed_call(request: Request, session: SessionDep, settings: SettingsDep) -> SignedCall:
    body = await request.body()
    remote = request.client.host if request.client else None
    headers = dict(request.headers)
    method, path, query = request.method, request.url.path, request.url.query
    return await run_in_threadpool(
        _check, session, settings, method, path, query, headers, body, remote
    )


def _check(
    session: Session,
    settings: Settings,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    remote: str | None,
) -> SignedCall:
    identity = local_node(session)
    incoming = _Incoming(method, target_uri(identity.api_base, path, query), headers, body, remote)
    now = datetime.now(UTC)
    resolver = PgKeyResolver(session, now)
    try:
        verified = verify_request(
            method,
            incoming.url,
            headers,
            body,
            keys=resolver,
            nonces=PgNonceCache(session),
            now=now,
            skew=timedelta(seconds=settings.federation_skew_s),
        )
    except SignatureRejected as exc:
        _refuse(session, incoming, exc, resolver.inactive)
    owner = resolver.owner
    assert owner is not None  # the key resolved, so its owner was recorded
    call = SignedCall(
        peer_id=owner.peer_id,
        node_id=owner.node_id,
        peer_name=owner.name,
        body=body,
        key_id=verified.key_id,
        method=method,
        target_uri=incoming.url,
        signer=signing_key(session, settings.data_dir),
        lifetime=timedelta(seconds=settings.federation_signature_lifetime_s),
    )
    # The nonce is committed now, so a replay is refused even if the route then fails.
    session.commit()
    return call


def _refuse(
    session: Session,
    incoming: _Incoming,
    exc: SignatureRejected,
    inactive: KeyOwner | None,
) -> NoReturn:
    key_id = _key_id(incoming.headers)
    if exc.code == "unknown_key" and inactive is not None:
        status, code = 403, f"peer_{inactive.state.value}"
        detail = f"peer {inactive.name} is {inactive.state.value}; its keys are not accepted"
        error: ProblemError = Forbidden(detail)
    else:
        status, code, detail = 401, exc.code, exc.detail
        error = Unauthorized(f"signature refused ({code}): {detail}")
    session.rollback()
    session.add(
        Rejection(
            status=status,
            code=code,
            key_id=key_id,
            peer_id=inactive.peer_id if inactive else None,
            method=incoming.method[:10],
            url=incoming.url[:1000],
            remote=incoming.remote,
            detail=detail[:500],
        )
    )
    session.commit()
    log.warning(
        "federation request refused: %s %s %s key=%s remote=%s: %s",
        status,
        incoming.method,
        incoming.url,
        key_id,
        incoming.remote,
        detail,
    )
    raise error


def _key_id(headers: dict[str, str]) -> str | None:
    """The keyid parameter as sent, for the log, even when the signature is unreadable."""
    signature_input = headers.get("signature-input", "")
    marker = 'keyid="'
    start = signature_input.find(marker)
    if start < 0:
        return None
    end = signature_input.find('"', start + len(marker))
    return signature_input[start + len(marker) : end][:200] if end > 0 else None


SignedCallDep = Annotated[SignedCall, Depends(signed_call)]


def signed_response(
    request: Request,
    call: SignedCall,
    status: int,
    body: bytes,
    content_type: str = "application/json",
) -> Response:
    """A response signed with this node's current key and bound to the call it answers."""
    headers = {"Content-Type": content_type}
    headers |= sign_response(
        status,
        headers,
        body,
        call.signer,
        request_method=call.method,
        request_url=call.target_uri,
        lifetime=call.lifetime,
    )
    return Response(content=body, status_code=status, headers=headers)


def signed_json(
    request: Request, call: SignedCall, model: BaseModel, status: int = 200
) -> Response:
    return signed_response(request, call, status, model.model_dump_json().encode())


def signed_problem(request: Request, call: SignedCall, error: ProblemError) -> Response:
    """A problem+json answer to a verified caller, signed like any other response."""
    problem: dict[str, object] = {
        "type": TYPE_BASE + error.kind,
        "title": error.title,
        "status": error.status,
    }
    if error.detail:
        problem["detail"] = error.detail
    problem["instance"] = request.url.path
    if error.invalid_params:
        problem["invalid_params"] = error.invalid_params
    body = json.dumps(problem, separators=(",", ":")).encode()
    return signed_response(request, call, error.status, body, PROBLEM_MEDIA_TYPE)
