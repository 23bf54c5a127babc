"""Nodes as separate processes on loopback, each with its own database, RabbitMQ vhost, data
directory, API process and worker (with beat): what the federation e2e test and bench use."""

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography.fernet import Fernet

from tests.support import C4HUB, free_port, fresh_database, fresh_vhost, stop

T = TypeVar("T")


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    """A MultiPolygon square with its south-west corner at lon, lat."""
    ring = [
        [lon, lat],
        [lon + size, lat],
        [lon + size, lat + size],
        [lon, lat + size],
        [lon, lat],
    ]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


@dataclass
class Node:
    name: str
    database_url: str
    vhost: str
    data_dir: Path
    jurisdiction: dict[str, Any]
    port: int = field(default_factory=free_port)
    token: str = ""
    processes: list["subprocess.Popen[bytes]"] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "C4HUB_DATABASE_URL": self.database_url,
            "C4HUB_DATA_DIR": str(self.data_dir),
            "C4HUB_SECRET_KEY": (self.data_dir / "fernet").read_text().strip(),
            "C4HUB_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
            "C4HUB_FEDERATION_SWEEP_S": "1",
            **self.extra_env,
        }

    def c4hub(self, *args: str) -> str:
        done = subprocess.run(
            [C4HUB, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"c4hub {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def initialise(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "fernet").write_text(Fernet.generate_key().decode())
        area = self.data_dir / "jurisdiction.geojson"
        area.write_text(json.dumps(self.jurisdiction))
        self.c4hub(
            "init", "--name", self.name, "--api-base", self.base + "/", "--jurisdiction", str(area)
        )
        self.token = self.c4hub("token", "create", "--role", "admin").strip().splitlines()[-1]

    def start(self) -> None:
        log = (self.data_dir / "node.log").open("ab")
        commands = [
            ["serve", "--port", str(self.port)],
            ["worker", "--queues", "federation", "--concurrency", "2", "--beat"],
        ]
        self.processes = [
            subprocess.Popen([C4HUB, *c], env=self.env, stdout=log, stderr=subprocess.STDOUT)
            for c in commands
        ]
        wait_for(lambda: self._healthy(), 60, f"{self.name} did not become healthy")

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.base + "/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        for process in self.processes:
            stop(process)
        self.processes = []

    def api(self, method: str, path: str, body: Any = None, expect: int | None = 200) -> Any:
        response = httpx.request(
            method,
            self.base + path,
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        if expect is not None and response.status_code != expect:
            raise AssertionError(
                f"{self.name} {method} {path}: {response.status_code} {response.text[:500]}"
            )
        return response.json() if response.content else None

    def log_tail(self) -> str:
        return (self.data_dir / "node.log").read_text(errors="replace")[-3000:]


def wait_for(
    check: Callable[[], T | None], timeout_s: float, message: str, every_s: float = 0.2
) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(every_s)


@contextmanager
def federation_nodes(
    root: Path, specs: list[tuple[str, dict[str, Any]]]
) -> Iterator[dict[str, Node]]:
    """Nodes named and placed by `specs`, initialised and started; stopped and dropped after."""
    with ExitStack() as stack:
        nodes: dict[str, Node] = {}
        for name, area in specs:
            url = stack.enter_context(fresh_database())
            vhost = stack.enter_context(fresh_vhost("c4hub_e2e"))
            node = Node(name, url, vhost, root / name.lower().replace(" ", "-"), area)
            node.initialise()
            nodes[name] = node
            stack.callback(node.stop)
        for node in nodes.values():
            node.start()
        yield nodes


def peer(a: Node, b: Node) -> dict[str, Any]:
    """a adds b as a peer, with b's fingerprint as read from b (the out-of-band step)."""
    fingerprint = b.api("GET", "/api/v1/federation/node")["fingerprint"]
    result: dict[str, Any] = a.api(
        "POST",
        "/api/v1/federation/peers",
        {"url": b.base + "/", "fingerprint": fingerprint},
        expect=201,
    )
    return result


def agree(
    proposer: Node,
    acceptor: Node,
    scopes_out: list[str],
    scopes_in: list[str],
    area: dict[str, Any] | None,
) -> str:
    """An agreement proposed by one side and accepted by the other; active on both."""
    peer_id = _peer_id(proposer, acceptor)
    body = {
        "peer_id": peer_id,
        "scopes_out": scopes_out,
        "scopes_in": scopes_in,
        "area": area,
        "purpose": "cross-jurisdiction wanted vehicles",
        "legal_basis": "inter-municipal convention 2026/11",
        "expires_at": "2027-12-31T00:00:00Z",
    }
    agreement = proposer.api("POST", "/api/v1/federation/agreements", body, expect=201)
    agreement_id = str(agreement["id"])
    wait_for(
        lambda: _agreement_state(acceptor, agreement_id) == "proposed",
        30,
        f"{acceptor.name} never received agreement {agreement_id}",
    )
    acceptor.api("POST", f"/api/v1/federation/agreements/{agreement_id}/accept", {})
    wait_for(
        lambda: _agreement_state(proposer, agreement_id) == "active",
        30,
        f"{proposer.name} never saw agreement {agreement_id} accepted",
    )
    return agreement_id


def _peer_id(node: Node, other: Node) -> str:
    other_id = other.api("GET", "/api/v1/federation/node")["node_id"]
    for item in node.api("GET", "/api/v1/federation/peers"):
        if item["node_id"] == other_id:
            return str(item["id"])
    raise AssertionError(f"{node.name} has no peer {other.name}")


def _agreement_state(node: Node, agreement_id: str) -> str | None:
    response = httpx.get(
        f"{node.base}/api/v1/federation/agreements/{agreement_id}",
        headers={"Authorization": f"Bearer {node.token}"},
        timeout=10,
    )
    if response.status_code != 200:
        return None
    state: str = response.json()["state"]
    return state
