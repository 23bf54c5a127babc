"""This node's identity and keys: `c4hub init`, key rotation, the published node document.

Public keys and their roles live in node_keys; each private half is a 0600 file
data_dir/keys/<key id>.key written by federation.identity.save_private_key. The node signs
with its `current` key and publishes its `next` key too, so peers trust that key before a
rotation makes it current. A rotated-out key stays published as `previous` until its
valid_until, so messages signed just before the rotation still verify.
"""

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from federation.identity import (
    SigningKey,
    encode_public_key,
    fingerprint,
    load_private_key,
    save_private_key,
)
from federation.models import NodeIdentity, NodeKey
from hub.errors import Conflict, ProblemError
from hub.registry.convert import multipolygon_of
from schemas.federation import KeyStatus, NodeDocument, PublishedKey
from schemas.geo import MultiPolygon

SINGLETON = 1


class NodeNotInitialised(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "node-not-initialised",
            "Node not initialised",
            "This node has no federation identity; run `c4hub init` first.",
        )


class AlreadyInitialised(Conflict):
    """`init` on a node that has an identity; `same` when the request repeats it exactly."""

    def __init__(self, identity: NodeIdentity, same: bool) -> None:
        super().__init__(
            f"already initialised as {identity.name} {identity.node_id}"
            + ("" if same else "; an identity is never replaced (peers know it by its node id)")
        )
        self.identity = identity
        self.same = same


def key_path(data_dir: Path, key_id: str) -> Path:
    # Key ids are base64url, so they are safe file names.
    return data_dir / "keys" / f"{key_id}.key"


def local_node(session: Session) -> NodeIdentity:
    identity = session.get(NodeIdentity, SINGLETON)
    if identity is None:
        raise NodeNotInitialised()
    return identity


_cache_lock = threading.Lock()
_key_cache: dict[tuple[Path, str], SigningKey] = {}


def signing_key(session: Session, data_dir: Path) -> SigningKey:
    """The current private key; its file is read once per key id (rotation changes the id)."""
    key_id = session.scalar(select(NodeKey.key_id).where(NodeKey.status == KeyStatus.CURRENT))
    if key_id is None:
        raise NodeNotInitialised()
    path = key_path(data_dir, key_id).resolve()
    with _cache_lock:
        cached = _key_cache.get((path, key_id))
    if cached is not None:
        return cached
    key = load_private_key(path)
    if key.key_id != key_id:
        raise ProblemError(
            500, "key-mismatch", "Key file mismatch", f"{path} does not hold key {key_id}"
        )
    with _cache_lock:
        _key_cache[(path, key_id)] = key
    return key


_ORDER = {KeyStatus.CURRENT: 0, KeyStatus.NEXT: 1, KeyStatus.PREVIOUS: 2}


def published_keys(session: Session, now: datetime) -> list[NodeKey]:
    """Current, next, then previous keys still inside their overlap (newest first)."""
    rows = session.scalars(select(NodeKey)).all()
    live = [r for r in rows if r.valid_until is None or r.valid_until > now]
    return sorted(live, key=lambda r: (_ORDER[r.status], -r.valid_from.timestamp(), r.key_id))


def node_document(session: Session) -> NodeDocument:
    identity = local_node(session)
    now = datetime.now(UTC)
    return NodeDocument(
        node_id=identity.node_id,
        name=identity.name,
        api_base=identity.api_base,
        jurisdiction=multipolygon_of(identity.jurisdiction),
        keys=[
            PublishedKey(
                key_id=row.key_id,
                public_key=row.public_key,
                status=row.status,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
            )
            for row in published_keys(session, now)
        ],
        updated_at=identity.updated_at,
    )


def current_fingerprint(session: Session, data_dir: Path) -> str:
    return fingerprint(signing_key(session, data_dir).public_key)


def _new_key(session: Session, data_dir: Path, status: KeyStatus, now: datetime) -> SigningKey:
    key = SigningKey.generate()
    save_private_key(key_path(data_dir, key.key_id), key)
    session.add(
        NodeKey(
            key_id=key.key_id,
            public_key=encode_public_key(key.public_key),
            status=status,
            valid_from=now,
            valid_until=None,
        )
    )
    return key


def same_identity(
    identity: NodeIdentity, name: str, api_base: str, node_id: uuid.UUID | None
) -> bool:
    return (
        identity.name == name
        and identity.api_base == api_base
        and (node_id is None or node_id == identity.node_id)
    )


def init_node(
    session: Session,
    data_dir: Path,
    name: str,
    api_base: str,
    jurisdiction: MultiPolygon | None,
    node_id: uuid.UUID | None = None,
) -> NodeIdentity:
    """Create the identity and its current and next keys; flushes, the caller commits.

    Raises AlreadyInitialised when an identity exists (with `same` set when the call repeats
    it). Key files are written before the rows; if the rows fail, the files are removed.
    """
    existing = session.get(NodeIdentity, SINGLETON)
    if existing is not None:
        raise AlreadyInitialised(existing, same_identity(existing, name, api_base, node_id))
    now = datetime.now(UTC)
    identity = NodeIdentity(
        singleton=SINGLETON,
        node_id=node_id or uuid.uuid4(),
        name=name,
        api_base=api_base,
        jurisdiction=_geometry(jurisdiction),
        updated_at=now,
    )
    session.add(identity)
    written: list[SigningKey] = []
    try:
        written.append(_new_key(session, data_dir, KeyStatus.CURRENT, now))
        written.append(_new_key(session, data_dir, KeyStatus.NEXT, now))
        session.flush()
    except BaseException:
        for key in written:
            key_path(data_dir, key.key_id).unlink(missing_ok=True)
        raise
    return identity


def _geometry(jurisdiction: MultiPolygon | None) -> object:
    if jurisdiction is None:
        return None
    return func.ST_SetSRID(func.ST_GeomFromGeoJSON(jurisdiction.model_dump_json()), 4326)


def rotate_keys(session: Session, data_dir: Path, overlap: timedelta) -> SigningKey:
    """next -> current, current -> previous until now + overlap, a new next; returns the new
    current key. Previous keys past their overlap are dropped (their files stay, for audit).
    Flushes; the caller commits."""
    identity = local_node(session)
    now = datetime.now(UTC)
    rows = {r.status: r for r in session.scalars(select(NodeKey).with_for_update())}
    current, upcoming = rows.get(KeyStatus.CURRENT), rows.get(KeyStatus.NEXT)
    if current is None or upcoming is None:
        raise NodeNotInitialised()
    session.execute(
        delete(NodeKey).where(NodeKey.status == KeyStatus.PREVIOUS, NodeKey.valid_until <= now)
    )
    current.status = KeyStatus.PREVIOUS
    current.valid_until = now + overlap
    upcoming.status = KeyStatus.CURRENT
    upcoming.valid_from = now
    _new_key(session, data_dir, KeyStatus.NEXT, now)
    identity.updated_at = now
    session.flush()
    return load_private_key(key_path(data_dir, upcoming.key_id))
