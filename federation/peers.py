"""Peers: add one by URL and out-of-band fingerprint, refresh its keys, change its state.

Trust starts with the fingerprint an operator received out of band: `add_peer` reads the
peer's /.well-known/c4hub, accepts it only if its current key has that fingerprint and the
document's response is signed by that key, then stores the peer and every published key.
Later refreshes verify the document with keys already trusted, so a rotated key is learned
only from a document signed by a key the node already knew.
"""

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from federation.client import join_url, peer_keys
from federation.identity import decode_public_key, fingerprint, key_id
from federation.models import NodeIdentity, Peer, PeerKey
from federation.signing import SignatureRejected, verify_response
from hub.errors import Conflict, Invalid, NotFound, ProblemError
from hub.registry.convert import multipolygon_of
from hub.settings import Settings
from schemas.federation import KeyStatus, NodeDocument, PeerOut, PeerState, PublishedKey

WELL_KNOWN = "/.well-known/c4hub"


class PeerDocumentError(ProblemError):
    """The peer's node document could not be fetched, read or trusted."""

    def __init__(self, detail: str) -> None:
        super().__init__(502, "peer-document", "Peer document refused", detail)


class FingerprintMismatch(Invalid):
    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"fingerprint mismatch: you gave {expected}, the peer's current key is {actual}; "
            "check the fingerprint with the peer's operator",
            "fingerprint",
        )
        self.expected = expected
        self.actual = actual


def normalise_fingerprint(value: str) -> str:
    """Upper-case hex in groups of 4, whatever case and spacing the operator typed."""
    compact = "".join(value.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


class _Keys:
    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.keys = keys

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.keys.get(key_id)


class _Once:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def remember(self, key_id: str, nonce: str, expires_at: datetime) -> bool:
        fresh = (key_id, nonce) not in self.seen
        self.seen.add((key_id, nonce))
        return fresh


def current_key(document: NodeDocument) -> PublishedKey:
    current = [k for k in document.keys if k.status is KeyStatus.CURRENT]
    if len(current) != 1:
        raise PeerDocumentError("the peer's document must publish exactly one current key")
    return current[0]


def _fetch(http: httpx.Client, base_url: str) -> tuple[httpx.Response, str, NodeDocument]:
    url = join_url(base_url, WELL_KNOWN)
    try:
        reply = http.get(url, headers={"Accept": "application/json"})
    except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
        # An unusable host name (e.g. a label over 63 characters) fails before any request.
        raise PeerDocumentError(f"cannot read {url}: {exc}") from exc
    if reply.status_code != 200:
        raise PeerDocumentError(f"{url} answered {reply.status_code}, not a node document")
    try:
        document = NodeDocument.model_validate_json(reply.content)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise PeerDocumentError(f"{url} is not a c4hub node document: {reason}") from exc
    return reply, url, document


def _verify(reply: httpx.Response, url: str, keys: Mapping[str, Ed25519PublicKey]) -> None:
    try:
        verify_response(
            reply.status_code,
            dict(reply.headers),
            reply.content,
            request_method="GET",
            request_url=url,
            keys=_Keys(keys),
            nonces=_Once(),
        )
    except SignatureRejected as exc:
        raise PeerDocumentError(
            f"the document at {url} is not signed by a trusted key ({exc.code}: {exc.detail})"
        ) from exc


def _published(document: NodeDocument) -> dict[str, Ed25519PublicKey]:
    try:
        return {k.key_id: decode_public_key(k.public_key) for k in document.keys}
    except ValueError as exc:
        raise PeerDocumentError(f"the document publishes a malformed key: {exc}") from exc


def _check_key_ids(keys: Mapping[str, Ed25519PublicKey]) -> None:
    """A key id must be the hash of its key: a peer cannot claim another node's key id."""
    for kid, public in keys.items():
        if key_id(public) != kid:
            raise PeerDocumentError(f"key id {kid} does not match its key")


def add_peer(session: Session, http: httpx.Client, url: str, expected_fingerprint: str) -> Peer:
    """Fetch, check, store; nothing is stored unless every check passes. Flushes."""
    reply, doc_url, document = _fetch(http, url)
    keys = _published(document)
    _check_key_ids(keys)
    current = current_key(document)
    actual = fingerprint(keys[current.key_id])
    if normalise_fingerprint(expected_fingerprint) != actual:
        raise FingerprintMismatch(normalise_fingerprint(expected_fingerprint), actual)
    _verify(reply, doc_url, {current.key_id: keys[current.key_id]})
    own = session.get(NodeIdentity, 1)
    if own is not None and own.node_id == document.node_id:
        raise Invalid(f"{url} is this node itself ({document.node_id})", "url")
    existing = session.scalar(select(Peer).where(Peer.node_id == document.node_id))
    if existing is not None:
        raise Conflict(f"{existing.name} ({document.node_id}) is already a peer: {existing.id}")
    peer = Peer(
        id=uuid.uuid4(),
        node_id=document.node_id,
        name=document.name,
        api_base=document.api_base,
        jurisdiction=_geometry(document),
        state=PeerState.ACTIVE,
        fingerprint=actual,
        refreshed_at=datetime.now(UTC),
    )
    session.add(peer)
    session.flush()
    _store_keys(session, peer, document)
    return peer


def _geometry(document: NodeDocument) -> object:
    if document.jurisdiction is None:
        return None
    geojson = document.jurisdiction.model_dump_json()
    return func.ST_SetSRID(func.ST_GeomFromGeoJSON(geojson), 4326)


def _store_keys(session: Session, peer: Peer, document: NodeDocument) -> None:
    """Make the peer's stored keys exactly the published ones."""
    ids = [k.key_id for k in document.keys]
    taken = session.scalar(
        select(PeerKey.key_id).where(PeerKey.key_id.in_(ids), PeerKey.peer_id != peer.id)
    )
    if taken is not None:
        raise Conflict(f"key {taken} is already published by another peer")
    session.execute(delete(PeerKey).where(PeerKey.peer_id == peer.id))
    session.add_all(
        PeerKey(
            key_id=k.key_id,
            peer_id=peer.id,
            public_key=k.public_key,
            status=k.status,
            valid_from=k.valid_from,
            valid_until=k.valid_until,
        )
        for k in document.keys
    )
    session.flush()


def refresh_peer(session: Session, http: httpx.Client, peer: Peer) -> Peer:
    """Re-read the peer's document; accept it only when signed by a key already trusted for
    this peer, then replace its stored keys, name, address and jurisdiction. Flushes."""
    reply, doc_url, document = _fetch(http, peer.api_base)
    _verify(reply, doc_url, peer_keys(session, peer.id, datetime.now(UTC)))
    if document.node_id != peer.node_id:
        raise PeerDocumentError(
            f"{doc_url} now names node {document.node_id}, not {peer.node_id}; "
            "add it as a new peer if that is intended"
        )
    keys = _published(document)
    _check_key_ids(keys)
    peer.name = document.name
    peer.api_base = document.api_base
    peer.jurisdiction = _geometry(document)  # type: ignore[assignment]
    peer.fingerprint = fingerprint(keys[current_key(document).key_id])
    peer.refreshed_at = datetime.now(UTC)
    _store_keys(session, peer, document)
    return peer


def refresh_all(session: Session, settings: Settings) -> dict[uuid.UUID, str]:
    """Refresh every peer that is not revoked, each in its own savepoint; the peers that
    failed, with why. For a periodic (beat) task; the caller commits."""
    failures: dict[uuid.UUID, str] = {}
    peers = session.scalars(select(Peer).where(Peer.state != PeerState.REVOKED)).all()
    with httpx.Client(timeout=settings.federation_timeout_s) as http:
        for peer in peers:
            try:
                with session.begin_nested():
                    refresh_peer(session, http, peer)
            except ProblemError as exc:
                failures[peer.id] = exc.detail or exc.title
    return failures


def get_peer(session: Session, ident: str | uuid.UUID) -> Peer:
    """A peer by its id or its node id."""
    try:
        as_uuid = ident if isinstance(ident, uuid.UUID) else uuid.UUID(str(ident))
    except ValueError as exc:
        raise NotFound("Peer", ident) from exc
    peer = session.get(Peer, as_uuid) or session.scalar(select(Peer).where(Peer.node_id == as_uuid))
    if peer is None:
        raise NotFound("Peer", ident)
    return peer


def set_state(session: Session, peer: Peer, state: PeerState, reason: str) -> Peer:
    """Takes effect on the next request: key resolution reads the state every time."""
    peer.state = state
    peer.state_reason = reason
    session.flush()
    return peer


def list_peers(session: Session) -> list[Peer]:
    return list(session.scalars(select(Peer).order_by(Peer.name, Peer.id)))


def peer_out(session: Session, peer: Peer) -> PeerOut:
    return PeerOut(
        id=peer.id,
        node_id=peer.node_id,
        name=peer.name,
        api_base=peer.api_base,
        jurisdiction=multipolygon_of(peer.jurisdiction),
        state=peer.state,
        fingerprint=peer.fingerprint,
        key_ids=sorted(session.scalars(select(PeerKey.key_id).where(PeerKey.peer_id == peer.id))),
        created_at=peer.created_at,
        refreshed_at=peer.refreshed_at,
        circuit_open_until=peer.circuit_open_until,
    )
