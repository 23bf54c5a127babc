"""`c4hub serve` run as a person runs it: embedded cluster, SIGTERM, restart, and its errors."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

C4HUB = Path(sys.executable).with_name("c4hub")
START_TIMEOUT_S = 90  # first start runs initdb and the migrations on a 2-core machine
STOP_TIMEOUT_S = 30

pytestmark = pytest.mark.slow


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def serve_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "C4HUB_DATABASE_URL"}
    env["C4HUB_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def postmaster_pid(cluster: Path) -> int | None:
    try:
        return int((cluster / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited and only waits for init to reap it


def wait_until_healthy(node: Node) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            pytest.fail(f"c4hub serve exited with {node.process.returncode}:\n{node.output()}")
        try:
            if httpx.get(node.base_url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"c4hub serve was not healthy within {START_TIMEOUT_S} s:\n{node.output()}")


def stop_with_sigterm(node: Node) -> int:
    node.process.send_signal(signal.SIGTERM)
    try:
        return node.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"c4hub serve ignored SIGTERM for {STOP_TIMEOUT_S} s:\n{node.output()}")


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not tmp_path: its parents are mode 0700, and as root the cluster runs as `postgres`.
    base = Path(tempfile.mkdtemp(prefix="c4hub-e2e-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    pid = postmaster_pid(base / "postgres")
    if pid is not None and process_alive(pid):  # only after a failed test: don't leak a server
        os.kill(pid, signal.SIGQUIT)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def start_node(data_dir: Path) -> Iterator[Callable[[], Node]]:
    nodes: list[Node] = []

    def start() -> Node:
        port = free_port()
        log = data_dir / f"serve-{len(nodes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(C4HUB), "serve", "--port", str(port)],
                env=serve_env(data_dir),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
            )
        node = Node(process, f"http://127.0.0.1:{port}", log)
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        if node.process.poll() is None:
            node.process.kill()
            node.process.wait()


def test_serve_runs_embedded_cluster_stops_it_on_sigterm_and_reuses_it(
    start_node: Callable[[], Node], data_dir: Path
) -> None:
    cluster = data_dir / "postgres"

    first = start_node()
    wait_until_healthy(first)
    openapi = httpx.get(first.base_url + "/openapi.json", timeout=10)
    assert openapi.status_code == 200
    assert "/health" in openapi.json()["paths"]
    server_pid = postmaster_pid(cluster)
    assert server_pid is not None and process_alive(server_pid)
    assert stop_with_sigterm(first) == 0, first.output()
    assert not (cluster / "postmaster.pid").exists(), first.output()
    assert not process_alive(server_pid)
    assert "creating a PostgreSQL cluster" in first.output()
    created = (cluster / "PG_VERSION").stat()

    second = start_node()
    wait_until_healthy(second)
    assert "creating a PostgreSQL cluster" not in second.output()
    assert (cluster / "PG_VERSION").stat().st_ino == created.st_ino

    busy = subprocess.run(
        [str(C4HUB), "serve", "--port", str(free_port())],
        env=serve_env(data_dir),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert busy.returncode != 0
    assert "already running" in one_line_error(busy.stderr)
    assert httpx.get(second.base_url + "/health", timeout=5).status_code == 200

    server_pid = postmaster_pid(cluster)
    assert server_pid is not None
    assert stop_with_sigterm(second) == 0, second.output()
    assert not process_alive(server_pid)


def test_unreachable_database_url_is_a_one_line_error(data_dir: Path) -> None:
    result = subprocess.run(
        [str(C4HUB), "serve", "--port", str(free_port())],
        env=serve_env(
            data_dir, C4HUB_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/postgres"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "cannot reach the database" in one_line_error(result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to the postgres user")
def test_data_dir_the_postgres_user_cannot_enter_is_a_one_line_error(data_dir: Path) -> None:
    private = data_dir / "private"
    private.mkdir(mode=0o700)

    result = subprocess.run(
        [str(C4HUB), "serve", "--port", str(free_port())],
        env=serve_env(private / "node"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert f"chmod o+x {private}" in one_line_error(result.stderr)
    assert not (private / "node" / "postgres" / "PG_VERSION").exists()
