"""Signed transport between two real nodes on loopback: what is accepted, what is refused
(and logged), replay protection across restarts, key rotation without breaking peers."""

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from federation.client import PeerCallError, join_url
from federation.identity import SigningKey
from federation.models import PeerKey, Rejection
from federation.node import rotate_keys, signing_key
from federation.peers import refresh_peer, set_state
from federation.signing import sign_request
from hub.app import create_app
from schemas.federation import KeyStatus, PeerState, PingReply
from tests.integration.federation_nodes import Node, peer, running_node

PING = "/federation/v1/ping"
BODY = b'{"hello": "peer"}'


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root: Path = tmp_path_factory.mktemp("fed")
    with running_node("Region", root / "a") as a, running_node("Saltillo", root / "b") as b:
        peer(a, b)
        yield a, b


def signed(a: Node, url: str, body: bytes = BODY, **kw: object) -> dict[str, str]:
    """Headers of a request from `a` to `url`, signed with a's current key."""
    with a.session() as session:
        key = signing_key(session, a.settings.data_dir)
    headers = {"Content-Type": "application/json"}
    return headers | sign_request("POST", url, headers, body, key, **kw)  # type: ignore[arg-type]


def rejections(node: Node, code: str) -> list[Rejection]:
    with node.session() as session:
        return list(session.scalars(select(Rejection).where(Rejection.code == code)))


def test_ping_is_signed_both_ways(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    with a.client() as client:
        reply = client.post(a.target(b), PING, BODY)
    assert reply.status == 200
    answer = PingReply.model_validate_json(reply.body)
    assert answer.node_id == b.node_id
    assert answer.caller_node_id == a.node_id and answer.caller_name == "Region"


def test_unsigned_request_is_refused(nodes: tuple[Node, Node]) -> None:
    _, b = nodes
    reply = httpx.post(b.url + PING, content=BODY, headers={"Content-Type": "application/json"})
    assert reply.status_code == 401
    assert reply.headers["content-type"] == "application/problem+json"
    assert rejections(b, "malformed")


@pytest.mark.parametrize(
    ("case", "code"),
    [("tampered body", "digest_mismatch"), ("changed url", "bad_signature")],
)
def test_tampering_is_refused_and_logged(
    nodes: tuple[Node, Node], case: str, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = nodes
    url = join_url(b.url, PING)
    headers = signed(a, url)
    before = len(rejections(b, code))
    with caplog.at_level(logging.WARNING, logger="c4hub.federation"):
        if case == "tampered body":
            reply = httpx.post(url, content=BODY.replace(b"peer", b"PEER"), headers=headers)
        else:  # the same signed request sent to another federation route
            reply = httpx.post(b.url + "/federation/v1/ping?x=1", content=BODY, headers=headers)
    assert reply.status_code == 401, reply.text
    assert code in reply.json()["detail"]
    logged = rejections(b, code)
    assert len(logged) == before + 1
    assert logged[-1].status == 401 and logged[-1].remote == "127.0.0.1"
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_expired_signature_is_refused(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    url = join_url(b.url, PING)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    headers = signed(a, url, now=old, lifetime=dt.timedelta(minutes=5))
    reply = httpx.post(url, content=BODY, headers=headers)
    assert reply.status_code == 401 and "expired" in reply.json()["detail"]
    assert rejections(b, "expired")


def test_unknown_key_is_refused(nodes: tuple[Node, Node]) -> None:
    _, b = nodes
    url = join_url(b.url, PING)
    stranger = SigningKey.generate()
    headers = {"Content-Type": "application/json"}
    headers |= sign_request("POST", url, headers, BODY, stranger)
    reply = httpx.post(url, content=BODY, headers=headers)
    assert reply.status_code == 401
    logged = rejections(b, "unknown_key")
    assert logged and logged[-1].key_id == stranger.key_id


def test_replayed_nonce_is_refused_even_by_a_restarted_node(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    url = join_url(b.url, PING)
    headers = signed(a, url)
    assert httpx.post(url, content=BODY, headers=headers).status_code == 200
    assert httpx.post(url, content=BODY, headers=headers).status_code == 401
    # A new app instance on the same database: the replay cache is a table, not memory.
    with TestClient(create_app(b.settings)) as fresh:
        reply = fresh.post(PING, content=BODY, headers=headers)
    assert reply.status_code == 401 and "replayed" in reply.json()["detail"]
    assert len(rejections(b, "replayed")) >= 2


@pytest.mark.parametrize("state", [PeerState.SUSPENDED, PeerState.REVOKED])
def test_inactive_peer_is_forbidden_at_once(nodes: tuple[Node, Node], state: PeerState) -> None:
    a, b = nodes
    a_at_b = b.peer_row(a)
    with b.session() as session:
        set_state(session, session.merge(a_at_b), state, "test")
    try:
        with a.client() as client, pytest.raises(PeerCallError) as caught:
            client.post(a.target(b), PING, BODY)
        assert caught.value.kind == "rejected" and caught.value.status == 403
        logged = rejections(b, f"peer_{state.value}")
        assert logged and logged[-1].peer_id == a_at_b.id and logged[-1].status == 403
    finally:
        with b.session() as session:
            set_state(session, session.merge(a_at_b), PeerState.ACTIVE, "test over")
    with a.client() as client:
        assert client.post(a.target(b), PING, BODY).status == 200


def test_response_with_a_wrong_signature_is_refused(nodes: tuple[Node, Node]) -> None:
    """A's client must not accept B's answer signed by a key A does not hold for B."""
    a, b = nodes
    target = a.target(b)
    unknown = type(target)(target.peer_id, target.node_id, target.name, target.api_base, keys={})
    with a.client() as client, pytest.raises(PeerCallError) as caught:
        client.post(unknown, PING, BODY)
    assert caught.value.kind == "bad_signature"


def test_unreachable_peer_is_reported(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    target = a.target(b)
    gone = type(target)(target.peer_id, target.node_id, target.name, "http://127.0.0.1:9/", {})
    with a.client() as client, pytest.raises(PeerCallError) as caught:
        client.post(gone, PING, BODY)
    assert caught.value.kind == "unreachable"


def test_rotation_does_not_break_peers_and_refresh_learns_new_keys(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    with a.session() as session:
        old = signing_key(session, a.settings.data_dir)
        new = rotate_keys(session, a.settings.data_dir, dt.timedelta(hours=1))
    assert new.key_id != old.key_id
    with b.session() as session:
        rotate_keys(session, b.settings.data_dir, dt.timedelta(hours=1))
    # Neither refreshed: each already trusts the other's published next key.
    with a.client() as client:
        assert client.key.key_id == new.key_id
        assert client.post(a.target(b), PING, BODY).status == 200
    # A request signed just before the rotation, with the old key, still verifies.
    url = join_url(b.url, PING)
    headers = {"Content-Type": "application/json"}
    headers |= sign_request("POST", url, headers, BODY, old)
    assert httpx.post(url, content=BODY, headers=headers).status_code == 200
    with b.session() as session, httpx.Client() as http:
        refresh_peer(session, http, session.merge(b.peer_row(a)))
        stored = {k.key_id: k for k in session.scalars(select(PeerKey))}
    a_keys = {k.key_id: k for k in stored.values() if k.peer_id == b.peer_row(a).id}
    assert a_keys[new.key_id].status is KeyStatus.CURRENT
    assert a_keys[old.key_id].status is KeyStatus.PREVIOUS
    assert a_keys[old.key_id].valid_until is not None
    assert len(a_keys) == 3  # previous, current, and a new next


def test_rejections_are_listed_for_admins(nodes: tuple[Node, Node]) -> None:
    _, b = nodes
    with b.session() as session:
        from hub.auth.service import create_token
        from schemas.enums import Role

        admin = create_token(session, Role.ADMIN, None)
        operator = create_token(session, Role.OPERATOR, None)
    reply = httpx.get(
        b.url + "/api/v1/federation/rejections",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert reply.status_code == 200
    codes = {r["code"] for r in reply.json()}
    assert {"malformed", "unknown_key", "expired", "replayed"} <= codes
    forbidden = httpx.get(
        b.url + "/api/v1/federation/rejections",
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert forbidden.status_code == 403
    assert json.loads(forbidden.text)["status"] == 403
