"""`c4hub init`, `c4hub keys …` and `c4hub peer …` as operators run them: real processes."""

import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from federation.models import Peer
from federation.peers import add_peer
from hub.settings import Settings
from tests.integration.federation_nodes import Node, running_node
from tests.support import fresh_database, live_node

C4HUB = str(Path(sys.executable).parent / "c4hub")
AREA = (
    '{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": '
    "[[[-101.1, 25.3], [-100.8, 25.3], [-100.8, 25.6], [-101.1, 25.6], [-101.1, 25.3]]]}}"
)


@dataclass
class Cli:
    url: str
    data_dir: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("C4HUB_")}
        env |= {"C4HUB_DATABASE_URL": self.url, "C4HUB_DATA_DIR": str(self.data_dir)}
        return subprocess.run(
            [C4HUB, *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    with fresh_database() as url:
        yield Cli(url, tmp_path_factory.mktemp("cli"))


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with running_node("Torreón", tmp_path_factory.mktemp("other")) as node:
        yield node


def one_line_error(proc: subprocess.CompletedProcess[str], *mentions: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for text in mentions:
        assert text in lines[0], lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_commands_before_init_say_to_run_init(cli: Cli) -> None:
    one_line_error(cli.run("keys", "show"), "c4hub init")


def test_init_prints_node_id_and_fingerprint_and_writes_0600_keys(cli: Cli, tmp_path: Path) -> None:
    area = tmp_path / "saltillo.geojson"
    area.write_text(AREA)
    proc = cli.run(
        "init", "--name", "C4 Saltillo", "--api-base", "http://127.0.0.1:1/",
        "--jurisdiction", str(area),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^node id: [0-9a-f-]{36}$", proc.stdout, re.M)
    assert re.search(r"^fingerprint: ([0-9A-F]{4} ){15}[0-9A-F]{4}$", proc.stdout, re.M)
    keys = list((cli.data_dir / "keys").iterdir())
    assert len(keys) == 2
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)


def test_init_again_is_idempotent_or_refused(cli: Cli) -> None:
    same = cli.run("init", "--name", "C4 Saltillo", "--api-base", "http://127.0.0.1:1/")
    assert same.returncode == 0 and "already initialised as C4 Saltillo" in same.stdout
    different = cli.run("init", "--name", "C4 Torreón", "--api-base", "http://127.0.0.1:1/")
    one_line_error(different, "already initialised as C4 Saltillo")


def test_init_refuses_bad_input_in_one_line(cli: Cli, tmp_path: Path) -> None:
    one_line_error(cli.run("init", "--name", "X"), "--api-base")
    one_line_error(cli.run("init", "--name", "X", "--api-base", "ftp://x"), "--api-base")
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "Point", "coordinates": [0, 0]}')
    one_line_error(
        cli.run("init", "--name", "X", "--api-base", "http://x/", "--jurisdiction", str(bad)),
        "not a GeoJSON",
    )


def test_keys_show_and_rotate(cli: Cli) -> None:
    before = cli.run("keys", "show")
    assert before.returncode == 0, before.stderr
    lines = before.stdout.splitlines()
    next_id = next(line.split()[1] for line in lines if line.startswith("next"))
    rotated = cli.run("keys", "rotate", "--overlap-hours", "2")
    assert rotated.returncode == 0, rotated.stderr
    assert f"current key: {next_id}" in rotated.stdout
    after = cli.run("keys", "show").stdout
    assert re.search(r"^previous .* until \d{4}-", after, re.M)
    assert re.search(rf"^current\s+{re.escape(next_id)} ", after, re.M)


def test_peer_add_with_wrong_fingerprint_names_both(cli: Cli, other: Node) -> None:
    proc = cli.run("peer", "add", other.url, "--fingerprint", "ab" * 32)
    one_line_error(proc, "ABAB ABAB", other.fingerprint)
    assert "no peers yet" in cli.run("peer", "list").stdout


def test_peer_add_list_suspend_activate_and_ping(cli: Cli, other: Node) -> None:
    added = cli.run("peer", "add", other.url, "--fingerprint", other.fingerprint.lower())
    assert added.returncode == 0, added.stderr
    assert str(other.node_id) in added.stdout
    listed = cli.run("peer", "list").stdout
    assert re.search(rf"^{other.node_id}\s+active\s+Torreón", listed, re.M)
    # The other node must know this one too: it reads our document from our own server.
    settings = Settings(
        database_url=cli.url, data_dir=cli.data_dir, secret_key=Fernet.generate_key().decode()
    )
    fingerprint = cli.run("keys", "show").stdout
    current = re.search(r"^current .*  ((?:[0-9A-F]{4} ?){16})$", fingerprint, re.M)
    assert current is not None
    with live_node(settings) as ours, other.session() as session, httpx.Client() as http:
        add_peer(session, http, ours, current.group(1))
    pinged = cli.run("peer", "ping", str(other.node_id))
    assert pinged.returncode == 0, pinged.stderr
    assert "knows us as C4 Saltillo" in pinged.stdout
    suspended = cli.run("peer", "suspend", str(other.node_id), "--reason", "maintenance")
    assert suspended.returncode == 0 and "is suspended" in suspended.stdout
    engine = create_engine(cli.url)
    with Session(engine) as session:
        peer = session.scalar(select(Peer))
        assert peer is not None and peer.state_reason == "maintenance"
        assert session.scalar(select(func.count()).select_from(Peer)) == 1
    engine.dispose()
    assert cli.run("peer", "activate", str(other.node_id), "--reason", "back").returncode == 0
    one_line_error(cli.run("peer", "revoke", "nobody", "--reason", "x"), "nobody")
