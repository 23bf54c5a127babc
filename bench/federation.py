"""Federation benchmark: prints one JSON object (progress notes go to stderr).

Three nodes run as separate processes (API + worker with beat each, own database and RabbitMQ
vhost), peered as in tests/e2e/test_federation_three_nodes.py: a region and municipalities A
and B.

- "alert_latency": 1,000 hotlist-matching reads posted at A, one every 40 ms; for each, the time
  from the POST at A to the alert stored at the region (p50/p95/p99; target p95 <= 1 s,
  p99 <= 2 s);
- "throughput": events from A to B in batches through the delivery code, signed (the node's
  path) and unsigned (the same delivery code and inbox service, with a client that does not
  sign and a bench-only receiver that does not verify), alternating rounds; target >= 2,000
  signed events/s and signing overhead <= 15 %;
- "hotlist_propagation": from a hotlist entry created at the region to it being held by both
  municipalities (target <= 60 s).

  .venv/bin/python -m bench.federation [--reads 1000] [--events 10000] [--rounds 2]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import insert, select

from bench.parts.unsigned_inbox import UNSIGNED_INBOX_PATH
from federation.client import PeerClient, PeerResponse, PeerTarget
from federation.delivery import Clients, DeliveryContext, deliver_peer
from federation.identity import SigningKey
from federation.models import Delivery, DeliveryState, OutboxEvent, Peer
from federation.tasks import context_from
from hub.db import make_engine, make_sessionmaker, session_scope
from hub.settings import Settings
from schemas.federation import EventType, PlateReadData
from schemas.geo import Point
from tests.e2e.federation_nodes import Node, agree, federation_nodes, peer, square, wait_for
from tests.support import free_port

REGION_AREA = square(-104.0, 24.5, 4.5)
A_AREA = square(-101.1, 25.3, 0.3)
B_AREA = square(-103.5, 25.4, 0.3)
INSIDE_A = [-101.0, 25.42]
WANTED = "BEN1234"


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _db(node: Node) -> str:
    return node.database_url.replace("postgresql+psycopg://", "postgresql://")


def _camera(node: Node) -> str:
    org = node.api(
        "POST",
        "/api/v1/organizations",
        {"slug": f"bench-{uuid.uuid4().hex[:8]}", "name": "Bench police", "kind": "municipality"},
        expect=201,
    )
    camera = node.api(
        "POST",
        "/api/v1/cameras",
        {
            "owner_id": org["id"],
            "location": {"type": "Point", "coordinates": INSIDE_A},
            "purpose": "traffic",
        },
        expect=201,
    )
    return str(camera["id"])


def _entry(region: Node, plate: str) -> None:
    region.api(
        "POST",
        "/api/v1/hotlists/entries",
        {
            "plate": plate,
            "category": "wanted",
            "reason": "bench",
            "legal_basis": "bench",
            "priority": 1,
            "source": "bench",
        },
        expect=201,
    )


def _held(node: Node, plate: str) -> bool:
    with psycopg.connect(_db(node)) as conn:
        row = conn.execute(
            "SELECT 1 FROM hotlist_entries WHERE plate = %s AND origin_node_id IS NOT NULL",
            (plate,),
        ).fetchone()
    return row is not None


def bench_hotlist_propagation(region: Node, towns: list[Node], runs: int = 5) -> dict[str, Any]:
    times = []
    for i in range(runs):
        plate = f"HOT{uuid.uuid4().hex[:4].upper()}{i}"
        started = time.monotonic()
        _entry(region, plate)
        wait_for(lambda p=plate: all(_held(t, p) for t in towns), 120, "entry not held", 0.02)  # type: ignore[misc]
        times.append(time.monotonic() - started)
    return {
        "runs": runs,
        "seconds_p50": round(statistics.median(times), 3),
        "seconds_max": round(max(times), 3),
        "target_s": 60,
    }


def bench_alert_latency(region: Node, a: Node, reads: int, every_s: float) -> dict[str, Any]:
    _entry(region, WANTED)
    wait_for(lambda: _held(a, WANTED), 60, "A never held the bench entry")
    camera = _camera(a)
    posted: dict[str, float] = {}
    started = time.monotonic()
    with httpx.Client(headers={"Authorization": f"Bearer {a.token}"}, timeout=30) as http:
        for i in range(reads):
            read_id = str(uuid.uuid4())
            at = time.time()
            body = {
                "id": read_id,
                "camera_id": camera,
                "read_at": datetime.now(UTC).isoformat(),
                "plate": WANTED,
                "confidence": 0.95,
            }
            response = http.post(a.base + "/api/v1/plates/reads", json=body)
            response.raise_for_status()
            posted[read_id] = at
            time.sleep(max(0.0, started + (i + 1) * every_s - time.monotonic()))

    def stored() -> dict[str, float]:
        with psycopg.connect(_db(region)) as conn:
            rows = conn.execute(
                "SELECT read_id, extract(epoch FROM created_at) FROM alerts "
                "WHERE plate = %s AND origin_node_id IS NOT NULL",
                (WANTED,),
            ).fetchall()
        return {str(r): float(t) for r, t in rows}

    def complete() -> dict[str, float] | None:
        found = stored()
        return found if len(found) >= reads else None

    found = wait_for(complete, 300, "alerts missing at the region", 0.5)
    latencies = [found[r] - at for r, at in posted.items() if r in found]
    return {
        "reads": reads,
        "alerts_at_region": len(latencies),
        "p50_ms": round(pct(latencies, 50) * 1000, 1),
        "p95_ms": round(pct(latencies, 95) * 1000, 1),
        "p99_ms": round(pct(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "target": {"p95_ms": 1000, "p99_ms": 2000},
    }


# --- throughput -------------------------------------------------------------------------------


class UnsignedClient(PeerClient):
    """Posts the same batches to the bench receiver's unsigned route, without signing, and
    takes its answer unchecked."""

    def __init__(self, key: SigningKey, base: str) -> None:
        super().__init__(key, timeout_s=60)
        self.base = base

    def call(
        self,
        method: str,
        target: PeerTarget,
        path: str,
        body: bytes,
        content_type: str,
        timeout_s: float | None,
    ) -> PeerResponse:
        reply = self._http.request(
            method,
            self.base + UNSIGNED_INBOX_PATH,
            content=body,
            headers={"Content-Type": content_type},
        )
        return PeerResponse(reply.status_code, dict(reply.headers), reply.content)


def _fill_outbox(settings: Settings, peer_id: uuid.UUID, count: int) -> None:
    """`count` plate-read events for one peer, written as emit() writes them."""
    sessions = make_sessionmaker(make_engine(str(settings.database_url)))
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        rows, deliveries = [], []
        for _ in range(count):
            event_id = uuid.uuid4()
            data = PlateReadData(
                read_id=uuid.uuid4(),
                plate="THR0001",
                read_at=now,
                confidence=0.9,
                camera_id=uuid.uuid4(),
                camera_name="bench",
                position=Point(type="Point", coordinates=INSIDE_A),
            )
            rows.append(
                {
                    "id": event_id,
                    "type": EventType.PLATE_READ.value,
                    "subject": f"read:{data.read_id}",
                    "time": now,
                    "data": data.model_dump(mode="json"),
                    "position": f"SRID=4326;POINT({INSIDE_A[0]} {INSIDE_A[1]})",
                }
            )
            deliveries.append(
                {"outbox_id": event_id, "peer_id": peer_id, "state": DeliveryState.PENDING}
            )
        session.execute(insert(OutboxEvent), rows)
        session.execute(insert(Delivery), deliveries)


@contextmanager
def unsigned_receiver(b: Node, a_peer_at_b: Peer) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.parts.unsigned_inbox",
        str(port),
        str(a_peer_at_b.id),
        str(a_peer_at_b.node_id),
        a_peer_at_b.name,
    ]
    log = (b.data_dir / "unsigned.log").open("wb")  # stdout is the bench's JSON
    process = subprocess.Popen(command, env=b.env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), 30, "the unsigned receiver did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _peer_row(node: Node, other: Node) -> Peer:
    other_id = uuid.UUID(other.api("GET", "/api/v1/federation/node")["node_id"])
    sessions = make_sessionmaker(make_engine(node.database_url))
    with session_scope(sessions) as session:
        row = session.scalars(select(Peer).where(Peer.node_id == other_id)).one()
        session.expunge(row)
    return row


def bench_throughput(a: Node, b: Node, events: int, rounds: int) -> dict[str, Any]:
    a.processes[1].terminate()  # A's worker: the bench delivers, nothing else does
    a.processes[1].wait(timeout=30)
    settings = Settings(
        database_url=a.database_url,
        data_dir=a.data_dir,
        secret_key=(a.data_dir / "fernet").read_text().strip(),
    )
    signed_ctx = context_from(settings)
    b_at_a, a_at_b = _peer_row(a, b), _peer_row(b, a)
    signed: list[float] = []
    unsigned: list[float] = []
    with unsigned_receiver(b, a_at_b) as base:
        plain_ctx = DeliveryContext(
            sessions=signed_ctx.sessions,
            clients=Clients(settings.data_dir, lambda key: UnsignedClient(key, base)),
            policy=signed_ctx.policy,
        )
        for round_ in range(rounds):
            for name, ctx, sink in (
                ("signed", signed_ctx, signed),
                ("unsigned", plain_ctx, unsigned),
            ):
                _fill_outbox(settings, b_at_a.id, events)
                started = time.perf_counter()
                report = deliver_peer(ctx, b_at_a.id)
                elapsed = time.perf_counter() - started
                if report.delivered != events:
                    raise RuntimeError(f"{name}: delivered {report.delivered} of {events}")
                sink.append(events / elapsed)
                note(f"throughput round {round_ + 1} {name}: {events / elapsed:.0f} events/s")
    s, u = statistics.median(signed), statistics.median(unsigned)
    return {
        "events_per_round": events,
        "rounds": rounds,
        "batch": signed_ctx.policy.batch,
        "signed_events_per_s": round(s),
        "unsigned_events_per_s": round(u),
        "signing_overhead_pct": round((u / s - 1) * 100, 1),
        "target": {"signed_events_per_s": 2000, "signing_overhead_pct": 15},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--every-ms", type=float, default=40.0)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("C4HUB_SHARED_DIR", str(Path(__file__).resolve().parents[2] / "shared"))
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}
    with tempfile.TemporaryDirectory() as root:
        specs = [("Region", REGION_AREA), ("Saltillo", A_AREA), ("Torreon", B_AREA)]
        with federation_nodes(Path(root), specs) as nodes:
            region, a, b = nodes["Region"], nodes["Saltillo"], nodes["Torreon"]
            for x, y in ((region, a), (a, region), (region, b), (b, region), (a, b), (b, a)):
                peer(x, y)
            agree(region, a, ["hotlists"], ["alerts"], A_AREA)
            agree(region, b, ["hotlists"], ["alerts"], B_AREA)
            agree(a, b, ["plate_reads"], [], A_AREA)
            note("nodes peered; hotlist propagation")
            result["hotlist_propagation"] = bench_hotlist_propagation(region, [a, b])
            note("alert latency")
            result["alert_latency"] = bench_alert_latency(
                region, a, args.reads, args.every_ms / 1000
            )
            note("throughput")
            result["throughput"] = bench_throughput(a, b, args.events, args.rounds)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
