"""`c4hub init`, `c4hub keys …`, `c4hub peer …`: a node's federation identity and its peers.

Each command is one transaction on C4HUB_DATABASE_URL; private keys go to
C4HUB_DATA_DIR/keys. Errors are one line naming the fix, with a non-zero exit.
"""

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from schemas.federation import PeerState

keys_app = typer.Typer(help="This node's signing keys.", no_args_is_help=True)
peer_app = typer.Typer(help="Peer nodes: add, list, suspend, revoke, ping.", no_args_is_help=True)


@contextmanager
def _session() -> Iterator[Session]:
    """One committed transaction; a ProblemError becomes the one-line CLI error."""
    from hub.cli import database_errors, fail, require_database_url
    from hub.db import make_engine, make_sessionmaker, session_scope
    from hub.errors import ProblemError
    from hub.settings import get_settings

    engine = make_engine(require_database_url(get_settings()))
    try:
        with database_errors(), session_scope(make_sessionmaker(engine)) as session:
            try:
                yield session
            except ProblemError as exc:
                session.rollback()
                fail(exc.detail or exc.title)
    finally:
        engine.dispose()


def read_jurisdiction(path: Path) -> Any:
    """A GeoJSON Polygon or MultiPolygon, bare or as the one Feature of a file, as a
    MultiPolygon contract; raises ValueError with what is wrong."""
    from pydantic import ValidationError

    from schemas.geo import MultiPolygon

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path} as JSON: {exc}") from exc
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise ValueError(f"{path} must hold exactly one feature, not {len(features)}")
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if isinstance(data, dict) and data.get("type") == "Polygon":
        data = {"type": "MultiPolygon", "coordinates": [data.get("coordinates")]}
    try:
        return MultiPolygon.model_validate(data)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise ValueError(f"{path} is not a GeoJSON (Multi)Polygon: {reason}") from exc


def init(
    name: Annotated[str, typer.Option(help="The node's name, as peers will see it")],
    api_base: Annotated[
        str | None,
        typer.Option(help="Base URL peers call (default C4HUB_FEDERATION_API_BASE)"),
    ] = None,
    jurisdiction: Annotated[
        Path | None,
        typer.Option(help="GeoJSON file with the area the node answers for (Polygon/Multi)"),
    ] = None,
    node_id: Annotated[
        str | None, typer.Option(help="Keep a known node id (e.g. restoring a node)")
    ] = None,
) -> None:
    """Create this node's federation identity: node id, name, API base, jurisdiction, and an
    Ed25519 key pair (current and next) in C4HUB_DATA_DIR/keys (mode 0600). Prints the node id
    and the current key's fingerprint, which peers need to add this node.

    Example:
      c4hub init --name "C4 Saltillo" --api-base https://c4.saltillo.example/ \\
          --jurisdiction saltillo.geojson
    """
    from pydantic import TypeAdapter, ValidationError

    from federation.identity import KeyFileError
    from federation.models import NodeIdentity
    from federation.node import (
        AlreadyInitialised,
        current_fingerprint,
        init_node,
        same_identity,
    )
    from hub.cli import fail
    from hub.settings import get_settings
    from schemas.federation import HttpUrl, Name

    settings = get_settings()
    base = api_base or settings.federation_api_base
    if base is None:
        fail("--api-base is required (or set C4HUB_FEDERATION_API_BASE), e.g. https://c4.example/")
    try:
        TypeAdapter(HttpUrl).validate_python(base)
        TypeAdapter(Name).validate_python(name)
    except ValidationError:
        fail("--api-base must be an http(s) URL and --name 1 to 200 characters")
    try:
        chosen_id = uuid.UUID(node_id) if node_id else None
    except ValueError:
        fail(f"--node-id {node_id!r} is not a UUID, e.g. {uuid.uuid4()}")
    try:
        area = read_jurisdiction(jurisdiction) if jurisdiction else None
    except ValueError as exc:
        fail(str(exc))
    try:
        with _session() as session:
            existing = session.get(NodeIdentity, 1)
            if existing is not None:
                same = same_identity(existing, name, base, chosen_id)
                _already(AlreadyInitialised(existing, same))
                return
            identity = init_node(session, settings.data_dir, name, base, area, chosen_id)
            fp = current_fingerprint(session, settings.data_dir)
    except KeyFileError as exc:
        fail(str(exc))
    typer.echo(f"node id: {identity.node_id}")
    typer.echo(f"fingerprint: {fp}")


def _already(exc: Any) -> None:
    from hub.cli import fail

    if not exc.same:
        fail(f"{exc.detail}; to start over, use a new database and data directory")
    typer.echo(f"already initialised as {exc.identity.name} {exc.identity.node_id}")


@keys_app.command("show")
def keys_show() -> None:
    """Print the node id and every published key (status, key id, validity, fingerprint)."""
    from federation.identity import decode_public_key, fingerprint
    from federation.node import local_node, node_document

    with _session() as session:
        identity = local_node(session)
        document = node_document(session)
    typer.echo(f"node {identity.name} {identity.node_id} at {identity.api_base}")
    for key in document.keys:
        until = key.valid_until.isoformat() if key.valid_until else "-"
        fp = fingerprint(decode_public_key(key.public_key))
        typer.echo(f"{key.status.value:9} {key.key_id} until {until}  {fp}")


@keys_app.command("rotate")
def keys_rotate(
    overlap_hours: Annotated[
        float | None,
        typer.Option(min=0, help="Hours the old key is still accepted (default from settings)"),
    ] = None,
) -> None:
    """Make the next key current, keep the old one valid for the overlap, create a new next.
    Peers already trust the next key (it was published), so nothing breaks.

    Example:
      c4hub keys rotate --overlap-hours 48
    """
    from federation.identity import fingerprint
    from federation.node import rotate_keys
    from hub.settings import get_settings

    settings = get_settings()
    hours = settings.federation_key_overlap_h if overlap_hours is None else overlap_hours
    with _session() as session:
        key = rotate_keys(session, settings.data_dir, timedelta(hours=hours))
    typer.echo(f"current key: {key.key_id}")
    typer.echo(f"fingerprint: {fingerprint(key.public_key)}")
    typer.echo(f"the previous key is accepted for {hours:g} more hours")


@peer_app.command("add")
def peer_add(
    url: Annotated[str, typer.Argument(help="The peer's base URL")],
    fingerprint: Annotated[
        str, typer.Option(help="The peer's current key fingerprint, received out of band")
    ],
) -> None:
    """Add a peer: read URL/.well-known/c4hub and store it only if its current key has this
    fingerprint (case and spaces ignored) and the document is signed by that key.

    Example:
      c4hub peer add https://c4.torreon.example/ --fingerprint "3F2A 09C1 …"
    """
    import httpx

    from federation.peers import add_peer
    from hub.settings import get_settings

    settings = get_settings()
    with _session() as session, httpx.Client(timeout=settings.federation_timeout_s) as http:
        peer = add_peer(session, http, url, fingerprint)
        line = f"added peer {peer.name} {peer.node_id} (id {peer.id}) at {peer.api_base}"
    typer.echo(line)


@peer_app.command("list")
def peer_list() -> None:
    """Print every peer: node id, state, name, API base."""
    from federation.peers import list_peers

    with _session() as session:
        rows = [(p.node_id, p.state.value, p.name, p.api_base) for p in list_peers(session)]
    for node_id, state, name, base in rows:
        typer.echo(f"{node_id}  {state:9} {name}  {base}")
    if not rows:
        typer.echo("no peers yet; add one with `c4hub peer add URL --fingerprint FP`")


def _change(node: str, state: PeerState, reason: str) -> None:
    from federation.peers import get_peer, set_state

    with _session() as session:
        peer = set_state(session, get_peer(session, node), state, reason)
        line = f"peer {peer.name} {peer.node_id} is {state.value}"
    typer.echo(line)


NodeArg = Annotated[str, typer.Argument(metavar="NODE_ID", help="The peer's node id (or id)")]
Reason = Annotated[str, typer.Option(help="Why, for the record")]


@peer_app.command("suspend")
def peer_suspend(node: NodeArg, reason: Reason) -> None:
    """Stop accepting the peer's requests at once (403), until `peer activate`."""
    _change(node, PeerState.SUSPENDED, reason)


@peer_app.command("revoke")
def peer_revoke(node: NodeArg, reason: Reason) -> None:
    """Refuse the peer for good (403); `peer activate` can undo it if it was a mistake."""
    _change(node, PeerState.REVOKED, reason)


@peer_app.command("activate")
def peer_activate(node: NodeArg, reason: Reason) -> None:
    """Accept a suspended or revoked peer's requests again."""
    _change(node, PeerState.ACTIVE, reason)


@peer_app.command("ping")
def peer_ping(node: NodeArg) -> None:
    """Send the peer a signed ping and check its signed answer: proof the link works."""
    from federation.client import PeerCallError, client_for, peer_target
    from federation.peers import get_peer
    from hub.cli import fail
    from hub.settings import get_settings
    from schemas.federation import PingReply

    settings = get_settings()
    with _session() as session:
        target = peer_target(session, get_peer(session, node))
        client = client_for(session, settings)
    started = time.perf_counter()
    try:
        with client:
            reply = client.post(target, "/federation/v1/ping", b"{}")
    except PeerCallError as exc:
        fail(f"ping {target.name} failed ({exc.kind}): {exc.detail}")
    elapsed_ms = (time.perf_counter() - started) * 1000
    if reply.status != 200:
        fail(f"{target.name} answered {reply.status}: {reply.body[:200].decode(errors='replace')}")
    answer = PingReply.model_validate_json(reply.body)
    typer.echo(
        f"{target.name} {answer.node_id} answered in {elapsed_ms:.0f} ms "
        f"and knows us as {answer.caller_name} {answer.caller_node_id}"
    )
