"""Adding peers by URL and out-of-band fingerprint, over the admin API of real nodes."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, func, select

from federation.client import PeerCallError
from federation.models import Peer, PeerKey
from federation.peers import PeerDocumentError, add_peer, refresh_peer
from hub.auth.service import create_token
from hub.errors import Invalid
from schemas.enums import Role
from tests.integration.federation_nodes import Node, running_node

PING = "/federation/v1/ping"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root: Path = tmp_path_factory.mktemp("peers")
    with running_node("Region", root / "a") as a, running_node("Saltillo", root / "b") as b:
        yield a, b


def admin_of(node: Node) -> dict[str, str]:
    with node.session() as session:
        return {"Authorization": f"Bearer {create_token(session, Role.ADMIN, None)}"}


def peer_count(node: Node) -> int:
    with node.session() as session:
        return session.scalar(select(func.count()).select_from(Peer)) or 0


def test_fingerprint_mismatch_refuses_and_stores_nothing(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    wrong = "0" * 64
    reply = httpx.post(
        a.url + "/api/v1/federation/peers",
        json={"url": b.url, "fingerprint": wrong},
        headers=admin_of(a),
        timeout=20,
    )
    assert reply.status_code == 422, reply.text
    problem = reply.json()
    assert problem["type"].endswith("/invalid-input")
    assert b.fingerprint in problem["detail"] and "0000 0000" in problem["detail"]
    assert peer_count(a) == 0


def test_only_admins_add_peers(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    with a.session() as session:
        token = create_token(session, Role.OPERATOR, None)
    reply = httpx.post(
        a.url + "/api/v1/federation/peers",
        json={"url": b.url, "fingerprint": b.fingerprint},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 403 and peer_count(a) == 0


def test_add_peer_ignores_case_and_spaces_and_stores_its_keys(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    typed = b.fingerprint.replace(" ", "").lower()
    reply = httpx.post(
        a.url + "/api/v1/federation/peers",
        json={"url": b.url, "fingerprint": typed},
        headers=admin_of(a),
        timeout=20,
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["node_id"] == str(b.node_id) and body["name"] == "Saltillo"
    assert body["state"] == "active" and body["fingerprint"] == b.fingerprint
    assert len(body["key_ids"]) == 2  # current and next
    again = httpx.post(
        a.url + "/api/v1/federation/peers",
        json={"url": b.url, "fingerprint": typed},
        headers=admin_of(a),
        timeout=20,
    )
    assert again.status_code == 409
    listed = httpx.get(a.url + "/api/v1/federation/peers", headers=admin_of(a)).json()
    assert [p["node_id"] for p in listed] == [str(b.node_id)]


def test_a_node_cannot_peer_with_itself(nodes: tuple[Node, Node]) -> None:
    a, _ = nodes
    with a.session() as session, httpx.Client() as http, pytest.raises(Invalid) as caught:
        add_peer(session, http, a.url, a.fingerprint)
    assert "itself" in str(caught.value)


def test_state_change_through_the_api_takes_effect_at_once(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    with b.session() as session, httpx.Client() as http:
        add_peer(session, http, a.url, a.fingerprint)
    b_at_a = a.peer_row(b)
    url = f"{a.url}/api/v1/federation/peers/{b_at_a.id}/state"
    reply = httpx.post(url, json={"state": "suspended", "reason": "audit"}, headers=admin_of(a))
    assert reply.status_code == 200 and reply.json()["state"] == "suspended"
    with b.client() as client, pytest.raises(PeerCallError) as caught:
        client.post(b.target(a), PING, b"{}")
    assert caught.value.status == 403
    reply = httpx.post(url, json={"state": "active", "reason": "ok"}, headers=admin_of(a))
    assert reply.status_code == 200
    with b.client() as client:
        assert client.post(b.target(a), PING, b"{}").status == 200


def test_refresh_trusts_only_documents_signed_by_known_keys(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    b_at_a = a.peer_row(b)
    with a.session() as session:
        # Forget B's keys: a document signed by an unknown key must not teach new ones.
        session.execute(delete(PeerKey).where(PeerKey.peer_id == b_at_a.id))
        with httpx.Client() as http, pytest.raises(PeerDocumentError):
            refresh_peer(session, http, session.merge(b_at_a))
        session.rollback()
    with a.session() as session, httpx.Client() as http:
        refreshed = refresh_peer(session, http, session.merge(b_at_a))
        assert refreshed.refreshed_at is not None
