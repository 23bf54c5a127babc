"""Calls to peer nodes: every request signed (RFC 9421), every response's signature checked.

A PeerClient holds this node's signing key and one HTTP connection pool. It returns any
response whose signature verifies, 4xx/5xx included (the caller decides), and raises
PeerCallError for everything else: the peer unreachable, too slow, refusing our signature
with an unsigned 401/403, or answering without a valid signature.
"""

import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from federation.identity import SigningKey, decode_public_key
from federation.models import Peer, PeerKey
from federation.node import signing_key
from federation.signing import (
    DEFAULT_LIFETIME,
    DEFAULT_SKEW,
    SignatureRejected,
    sign_request,
    verify_response,
)
from hub.settings import Settings

CallErrorKind = Literal["unreachable", "timeout", "rejected", "bad_response", "bad_signature"]


@dataclass(frozen=True)
class PeerTarget:
    peer_id: uuid.UUID
    node_id: uuid.UUID
    name: str
    api_base: str
    keys: Mapping[str, Ed25519PublicKey]


@dataclass(frozen=True)
class PeerResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class PeerCallError(Exception):
    def __init__(self, kind: CallErrorKind, detail: str, status: int | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind: CallErrorKind = kind
        self.status = status
        self.detail = detail


def peer_keys(session: Session, peer_id: uuid.UUID, now: datetime) -> dict[str, Ed25519PublicKey]:
    rows = session.execute(
        select(PeerKey.key_id, PeerKey.public_key).where(
            PeerKey.peer_id == peer_id,
            or_(PeerKey.valid_until.is_(None), PeerKey.valid_until > now),
        )
    )
    return {key_id: decode_public_key(encoded) for key_id, encoded in rows}


def peer_target(session: Session, peer: Peer) -> PeerTarget:
    return PeerTarget(
        peer_id=peer.id,
        node_id=peer.node_id,
        name=peer.name,
        api_base=peer.api_base,
        keys=peer_keys(session, peer.id, datetime.now(UTC)),
    )


def join_url(api_base: str, path: str) -> str:
    return api_base.rstrip("/") + "/" + path.lstrip("/")


class _Keys:
    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.keys = keys

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.keys.get(key_id)


class _RecentNonces:
    """In-memory replay check for responses: a captured response cannot be fed back to this
    process while its signature lasts. Bounded by pruning expired entries as it grows."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def remember(self, key_id: str, nonce: str, expires_at: datetime) -> bool:
        now = time.time()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            if (key_id, nonce) in self._seen:
                return False
            self._seen[(key_id, nonce)] = expires_at.timestamp()
            return True


class PeerClient:
    def __init__(
        self,
        key: SigningKey,
        timeout_s: float = 10.0,
        lifetime: timedelta = DEFAULT_LIFETIME,
        skew: timedelta = DEFAULT_SKEW,
    ) -> None:
        self.key = key
        self.timeout_s = timeout_s
        self.lifetime = lifetime
        self.skew = skew
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._nonces = _RecentNonces()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "PeerClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def post(
        self,
        target: PeerTarget,
        path: str,
        body: bytes,
        content_type: str = "application/json",
        timeout_s: float | None = None,
    ) -> PeerResponse:
        return self.call("POST", target, path, body, content_type, timeout_s)

    def get(self, target: PeerTarget, path: str, timeout_s: float | None = None) -> PeerResponse:
        # A GET has no body; its Content-Type and (empty) Content-Digest are still signed.
        return self.call("GET", target, path, b"", "application/json", timeout_s)

    def call(
        self,
        method: str,
        target: PeerTarget,
        path: str,
        body: bytes,
        content_type: str,
        timeout_s: float | None,
    ) -> PeerResponse:
        url = join_url(target.api_base, path)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        headers |= sign_request(method, url, headers, body, self.key, lifetime=self.lifetime)
        timeout = timeout_s if timeout_s is not None else self.timeout_s
        try:
            reply = self._http.request(method, url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise PeerCallError("timeout", f"{target.name} did not answer in {timeout} s") from exc
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
            raise PeerCallError("unreachable", f"{target.name} at {url}: {exc}") from exc
        return self.checked(reply, method, url, target)

    def checked(
        self, reply: httpx.Response, method: str, url: str, target: PeerTarget
    ) -> PeerResponse:
        """The reply if its signature, by one of the target's keys, verifies."""
        if "signature" not in reply.headers and reply.status_code in (401, 403):
            raise PeerCallError("rejected", _detail(reply), reply.status_code)
        try:
            verify_response(
                reply.status_code,
                dict(reply.headers),
                reply.content,
                request_method=method,
                request_url=url,
                keys=_Keys(target.keys),
                nonces=self._nonces,
                skew=self.skew,
            )
        except SignatureRejected as exc:
            detail = f"{target.name} answered {reply.status_code} with {exc.code}: {exc.detail}"
            raise PeerCallError("bad_signature", detail, reply.status_code) from exc
        return PeerResponse(reply.status_code, dict(reply.headers), reply.content)


def _detail(reply: httpx.Response) -> str:
    try:
        problem = reply.json()
    except ValueError:
        return reply.text[:200]
    if isinstance(problem, dict):
        return str(problem.get("detail") or problem.get("title") or "")[:200]
    return ""


def client_for(session: Session, settings: Settings) -> PeerClient:
    return PeerClient(
        signing_key(session, settings.data_dir),
        timeout_s=settings.federation_timeout_s,
        lifetime=timedelta(seconds=settings.federation_signature_lifetime_s),
        skew=timedelta(seconds=settings.federation_skew_s),
    )
