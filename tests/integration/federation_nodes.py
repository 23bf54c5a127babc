"""Real federation nodes for integration tests: each its own database, data directory and
uvicorn server on loopback, initialised like `c4hub init` does, and peered like
`c4hub peer add` does. Node-to-node calls go over real sockets: signatures cover the URL."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from federation.client import PeerClient, PeerTarget, client_for, peer_target
from federation.models import Peer
from federation.node import current_fingerprint, init_node, local_node
from federation.peers import add_peer
from hub.db import session_scope
from hub.settings import Settings
from tests.support import fresh_database, live_node


@dataclass
class Node:
    name: str
    url: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    node_id: object
    fingerprint: str

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    def client(self) -> PeerClient:
        with self.session() as session:
            return client_for(session, self.settings)

    def target(self, other: "Node") -> PeerTarget:
        """`other` as this node knows it (its stored peer row and keys)."""
        with self.session() as session:
            peer = session.scalar(select(Peer).where(Peer.node_id == other.node_id))
            assert peer is not None, f"{other.name} is not a peer of {self.name}"
            return peer_target(session, peer)

    def peer_row(self, other: "Node") -> Peer:
        with self.session() as session:
            peer = session.scalar(select(Peer).where(Peer.node_id == other.node_id))
            assert peer is not None
            return peer


@contextmanager
def running_node(name: str, data_dir: Path) -> Iterator[Node]:
    with fresh_database() as url:
        settings = Settings(
            database_url=url, data_dir=data_dir, secret_key=Fernet.generate_key().decode()
        )
        engine = create_engine(url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        try:
            with live_node(settings) as base:
                with session_scope(sessions) as session:
                    init_node(session, data_dir, name, base + "/", None)
                    node_id = local_node(session).node_id
                    fingerprint = current_fingerprint(session, data_dir)
                yield Node(name, base, settings, engine, sessions, node_id, fingerprint)
        finally:
            engine.dispose()


def peer(a: Node, b: Node) -> None:
    """Each adds the other, with the fingerprint it was given out of band."""
    with httpx.Client(timeout=10) as http:
        for here, there in ((a, b), (b, a)):
            with here.session() as session:
                add_peer(session, http, there.url, there.fingerprint)
