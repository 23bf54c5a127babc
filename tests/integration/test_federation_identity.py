"""A node's identity: init, key files, the published (signed) document, rotation."""

import datetime as dt
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from federation.identity import decode_public_key, fingerprint, load_private_key
from federation.models import NodeKey
from federation.node import (
    AlreadyInitialised,
    NodeNotInitialised,
    init_node,
    key_path,
    local_node,
    node_document,
    rotate_keys,
    signing_key,
)
from federation.signing import verify_response
from federation.trust import PgNonceCache, purge_nonces
from hub.settings import Settings
from schemas.federation import KeyStatus, NodeDocument
from schemas.geo import MultiPolygon

BASE = "https://c4.saltillo.example/"
AREA = MultiPolygon(
    type="MultiPolygon",
    coordinates=[
        [[[-101.1, 25.3], [-100.8, 25.3], [-100.8, 25.6], [-101.1, 25.6], [-101.1, 25.3]]]
    ],
)


class Keys:
    def __init__(self, keys: dict[str, Ed25519PublicKey]) -> None:
        self.keys = keys

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.keys.get(key_id)


class Once:
    def remember(self, key_id: str, nonce: str, expires_at: dt.datetime) -> bool:
        return True


def test_init_creates_identity_and_two_private_key_files(
    session: Session, settings: Settings
) -> None:
    identity = init_node(session, settings.data_dir, "C4 Saltillo", BASE, AREA)
    rows = {r.status: r for r in session.scalars(select(NodeKey))}
    assert set(rows) == {KeyStatus.CURRENT, KeyStatus.NEXT}
    for row in rows.values():
        path = key_path(settings.data_dir, row.key_id)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_private_key(path).key_id == row.key_id
    assert signing_key(session, settings.data_dir).key_id == rows[KeyStatus.CURRENT].key_id
    assert local_node(session).node_id == identity.node_id
    document = node_document(session)
    assert document.jurisdiction == AREA and document.api_base == BASE


def test_init_twice_is_refused_unless_identical(session: Session, settings: Settings) -> None:
    node_id = uuid.uuid4()
    init_node(session, settings.data_dir, "C4 Saltillo", BASE, None, node_id)
    with pytest.raises(AlreadyInitialised) as same:
        init_node(session, settings.data_dir, "C4 Saltillo", BASE, None)
    assert same.value.same and str(node_id) in (same.value.detail or "")
    with pytest.raises(AlreadyInitialised) as other:
        init_node(session, settings.data_dir, "C4 Torreón", BASE, None)
    assert not other.value.same
    assert len(list(settings.data_dir.joinpath("keys").iterdir())) == 2


def test_uninitialised_node_answers_503(client: TestClient) -> None:
    reply = client.get("/.well-known/c4hub")
    assert reply.status_code == 503
    assert "c4hub init" in reply.json()["detail"]


def test_well_known_is_signed_and_serves_no_private_key(
    client: TestClient, session: Session, settings: Settings
) -> None:
    init_node(session, settings.data_dir, "C4 Saltillo", BASE, AREA)
    reply = client.get("/.well-known/c4hub")
    assert reply.status_code == 200
    document = NodeDocument.model_validate_json(reply.content)
    assert [k.status for k in document.keys] == [KeyStatus.CURRENT, KeyStatus.NEXT]
    current = next(k for k in document.keys if k.status is KeyStatus.CURRENT)
    verified = verify_response(
        200,
        dict(reply.headers),
        reply.content,
        request_method="GET",
        request_url="http://testserver/.well-known/c4hub",
        keys=Keys({current.key_id: decode_public_key(current.public_key)}),
        nonces=Once(),
    )
    assert verified.key_id == current.key_id
    text = reply.text
    assert "PRIVATE" not in text
    for path in settings.data_dir.joinpath("keys").iterdir():
        pem_lines = path.read_text().splitlines()[1:-1]
        assert all(line not in text for line in pem_lines)
        for guess in (f"/{path.name}", f"/keys/{path.name}", f"/.well-known/{path.name}"):
            leak = client.get(guess)
            assert leak.status_code == 404 and pem_lines[0] not in leak.text
    # Every key in the document is a public key whose id matches it.
    for key in document.keys:
        assert fingerprint(decode_public_key(key.public_key))


def test_rotation_promotes_next_and_keeps_previous_for_the_overlap(
    session: Session, settings: Settings
) -> None:
    init_node(session, settings.data_dir, "C4 Saltillo", BASE, None)
    before = {k.status: k.key_id for k in node_document(session).keys}
    rotate_keys(session, settings.data_dir, dt.timedelta(hours=2))
    after = {k.status: k for k in node_document(session).keys}
    assert after[KeyStatus.CURRENT].key_id == before[KeyStatus.NEXT]
    assert after[KeyStatus.PREVIOUS].key_id == before[KeyStatus.CURRENT]
    until = after[KeyStatus.PREVIOUS].valid_until
    assert until is not None
    assert dt.timedelta(hours=1.9) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=2)
    assert after[KeyStatus.NEXT].key_id not in before.values()
    assert signing_key(session, settings.data_dir).key_id == before[KeyStatus.NEXT]


def test_previous_key_leaves_the_document_after_its_overlap(
    session: Session, settings: Settings
) -> None:
    init_node(session, settings.data_dir, "C4 Saltillo", BASE, None)
    first = signing_key(session, settings.data_dir).key_id
    rotate_keys(session, settings.data_dir, dt.timedelta(0))
    statuses = [k.status for k in node_document(session).keys]
    assert KeyStatus.PREVIOUS not in statuses and len(statuses) == 2
    rotate_keys(session, settings.data_dir, dt.timedelta(0))
    kept = set(session.scalars(select(NodeKey.key_id)))
    assert first not in kept and len(kept) == 3  # the spent previous key is dropped


def test_node_api_shows_document_and_fingerprint(
    client: TestClient,
    session: Session,
    settings: Settings,
    auth: Callable[..., dict[str, str]],
) -> None:
    init_node(session, settings.data_dir, "C4 Saltillo", BASE, None)
    reply = client.get("/api/v1/federation/node", headers=auth())
    assert reply.status_code == 200
    body = reply.json()
    assert body["fingerprint"] == fingerprint(signing_key(session, settings.data_dir).public_key)
    assert client.get("/api/v1/federation/node").status_code == 401


def test_signing_key_without_identity_is_not_initialised(session: Session, tmp_path: Path) -> None:
    with pytest.raises(NodeNotInitialised):
        signing_key(session, tmp_path)


def test_replay_cache_refuses_a_seen_nonce_and_purge_forgets_only_expired_ones(
    session: Session,
) -> None:
    cache = PgNonceCache(session)
    now = dt.datetime.now(dt.UTC)
    assert cache.remember("key", "old", now - dt.timedelta(minutes=1))
    assert cache.remember("key", "new", now + dt.timedelta(minutes=1))
    assert not cache.remember("key", "new", now + dt.timedelta(minutes=1))
    assert cache.remember("other-key", "new", now + dt.timedelta(minutes=1))
    assert purge_nonces(session, now) == 1
    assert cache.remember("key", "old", now + dt.timedelta(minutes=1))  # forgotten
    assert not cache.remember("key", "new", now + dt.timedelta(minutes=1))  # kept
