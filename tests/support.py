"""Test plumbing shared by the suites: fresh databases and a live node on loopback."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from hub.app import create_app
from hub.db import Base
from hub.migrate import upgrade
from hub.settings import Settings

SERVER_URL = os.environ.get(
    "C4HUB_TEST_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SHARED = Path(os.environ.get("C4HUB_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
DATA = SHARED / "data"


C4HUB = str(Path(sys.executable).parent / "c4hub")


@contextmanager
def c4hub_processes(commands: list[list[str]], env: dict[str, str], log: Path) -> Iterator[None]:
    """`c4hub` sub-commands (e.g. ["worker", "--beat"]) as processes of their own, all writing
    to `log`, for the duration of the block; stopped with SIGTERM (SIGKILL after 15 s)."""
    with log.open("wb") as sink:
        processes = [
            subprocess.Popen([C4HUB, *command], env=env, stdout=sink, stderr=subprocess.STDOUT)
            for command in commands
        ]
    try:
        yield
    finally:
        for process in processes:
            stop(process)


def stop(process: "subprocess.Popen[bytes]", grace_s: float = 15.0) -> None:
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _admin_dsn() -> str:
    return SERVER_URL.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def fresh_database(migrate: bool = True) -> Iterator[str]:
    """A new empty database on the test server, migrated to head, dropped afterwards."""
    name = f"c4hub_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    url = SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def fresh_vhost(prefix: str) -> Iterator[str]:
    """A RabbitMQ vhost of its own (for a node's workers in a test), deleted afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        _rabbitmqctl("delete_vhost", name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def live_node(settings: Settings) -> Iterator[str]:
    """The node's API served by uvicorn in a thread on a free loopback port; yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        raise RuntimeError("live node did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def served_node(database_url: str, data_dir: Path, secret_key: str) -> Iterator[str]:
    """`c4hub serve` as its own process, as a node runs in production; yields its URL.

    Benchmarks use this rather than live_node: a client and a server sharing one interpreter's
    GIL would measure that contention, not the node.
    """
    port = free_port()
    env = {
        **os.environ,
        "C4HUB_DATABASE_URL": database_url,
        "C4HUB_DATA_DIR": str(data_dir),
        "C4HUB_SECRET_KEY": secret_key,
    }
    command = [str(Path(sys.executable).parent / "c4hub"), "serve", "--port", str(port)]
    log = data_dir / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, log)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_healthy(base: str, proc: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-500:]
            raise RuntimeError(f"c4hub serve exited with {proc.returncode}: {tail}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("c4hub serve did not become healthy within 30 s")


def migration_differences(engine: Engine, table: str) -> list[object]:
    """What alembic's autogenerate finds different between the migrated database and the
    SQLAlchemy models, for one table (empty when the migration matches the model)."""

    def only_table(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        owner = obj if type_ == "table" else getattr(obj, "table", None)
        return owner is not None and owner.name == table

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": only_table,
            },
        )
        return list(compare_metadata(context, Base.metadata))
