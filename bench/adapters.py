"""Adapter benchmark: probe many simulated ONVIF and RTSP cameras at once, with the real adapters.

Prints one JSON object on stdout (progress notes go to stderr). Not part of the test run.

  .venv/bin/python -m bench.adapters                      # 100 ONVIF + 100 RTSP, all at once
  .venv/bin/python -m bench.adapters --concurrency 50     # at most 50 probes in flight
  .venv/bin/python -m bench.adapters --hub --workers 4    # also API -> RabbitMQ -> c4hub worker

The cameras run in processes of their own, on 127.0.0.1:
- ONVIF: `bench.sim.onvif`, one port per device, each replaying the recorded answers of a real
  device (the agsh/onvif mock-up the tests use): the probe makes every SOAP call it makes on a
  real camera (GetSystemDateAndTime, GetDeviceInformation, GetServices, GetProfiles,
  GetStreamUri, GetSnapshotUri), WS-Security included.
- RTSP: GStreamer's RTSP server (tests.fixtures.rtsp_server) serving the shared H.264 video at
  one mount per camera, the mounts spread over a few server processes.

"probes": the adapters in this process, under asyncio.gather with a semaphore. RtspAdapter runs
PyAV in worker threads (asyncio.to_thread), so the loop's default executor gets one thread per
probe in flight; the default (CPUs + 4 threads) would cap RTSP probes at 6 at a time.
"probes_through_hub" (--hub): the same cameras registered in a fresh database, one POST
/api/v1/cameras/{id}/probe each to a `c4hub serve` process, run by a `c4hub worker` process
over RabbitMQ; jobs/s from the first POST to the last job finished.
"health_sweep" (--sweep N, default 1,000; 0 skips it): N cameras registered in a fresh database,
sharing a few GStreamer servers that serve the clean video and its tampered copies (black,
blurred, shifted, frozen); a tenth point at a closed port. A `c4hub worker` process runs two
sweeps, sent as beat sends them: the first on the clean view (each camera learns its baseline),
the second after a fifth were tampered with or died. Each is timed from the send to the last
camera's check; then the detection rate of each tamper kind and the clean cameras flagged.

  .venv/bin/python -m bench.adapters --no-probes --sweep 1000    # the health sweep alone
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from adapters.base import AdapterError, CameraAdapter, Target
from adapters.onvif.adapter import OnvifAdapter
from adapters.rtsp import RtspAdapter
from hub.auth.service import create_token
from hub.registry.cameras import create_camera
from hub.registry.organizations import create_organization
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enums import Role
from schemas.organization import OrganizationCreate
from tests.fixtures.rtsp_server import SOURCE, rtsp_server, served_videos
from tests.support import c4hub_processes, free_port, fresh_database, served_node

USERNAME = "admin"
PASSWORD = "bench-Secret-1"  # the recorded devices accept any credentials
MOUNTS_PER_RTSP_SERVER = 25


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Endpoints:
    onvif_ports: list[int]
    rtsp_uris: list[str]

    def targets(self, timeout_s: float) -> list[tuple[str, Target]]:
        """(kind, target) for every camera, ONVIF and RTSP interleaved."""
        onvif = [
            (
                "onvif",
                Target(
                    host="127.0.0.1",
                    port=port,
                    username=USERNAME,
                    password=PASSWORD,
                    timeout_s=timeout_s,
                ),
            )
            for port in self.onvif_ports
        ]
        rtsp = [("rtsp", Target.from_uri(uri, timeout_s=timeout_s)) for uri in self.rtsp_uris]
        mixed = [pair for both in zip(onvif, rtsp, strict=False) for pair in both]
        shorter = min(len(onvif), len(rtsp))
        return mixed + onvif[shorter:] + rtsp[shorter:]

    def addresses(self) -> list[tuple[str, str]]:
        """(adapter, stream_uri) as the registry holds each camera."""
        onvif = [
            ("onvif", f"http://127.0.0.1:{port}/onvif/device_service") for port in self.onvif_ports
        ]
        return onvif + [("rtsp", uri) for uri in self.rtsp_uris]


@contextmanager
def onvif_devices(count: int) -> Iterator[list[int]]:
    """`count` recorded ONVIF devices served by a `bench.sim.onvif` process; yields ports."""
    if count == 0:
        yield []
        return
    command = [sys.executable, "-m", "bench.sim.onvif", "--cameras", str(count)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the process exits (EOF) rather than hang on failure
        if not line.startswith("READY "):
            raise RuntimeError(f"bench.sim.onvif did not start: {line!r}")
        yield [int(port) for port in line.split()[1:]]
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def rtsp_cameras(count: int) -> Iterator[list[str]]:
    """`count` RTSP mounts of the shared video over GStreamer servers; yields their URIs."""
    uris: list[str] = []
    with ExitStack() as stack:
        for first in range(0, count, MOUNTS_PER_RTSP_SERVER):
            mounts = [
                f"/cam{n:03d}" for n in range(first, min(count, first + MOUNTS_PER_RTSP_SERVER))
            ]
            base = stack.enter_context(rtsp_server(dict.fromkeys(mounts, SOURCE)))
            uris += [base + mount for mount in mounts]
        yield uris


@contextmanager
def simulated_endpoints(onvif: int, rtsp: int) -> Iterator[Endpoints]:
    with onvif_devices(onvif) as ports, rtsp_cameras(rtsp) as uris:
        yield Endpoints(onvif_ports=ports, rtsp_uris=uris)


# --- probes in this process --------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str
    seconds: float
    code: str  # "ok" or the AdapterError's code


async def _probe(adapter: CameraAdapter, kind: str, target: Target) -> Outcome:
    started = time.perf_counter()
    try:
        await adapter.probe(target)
        code = "ok"
    except AdapterError as exc:
        code = exc.code
    return Outcome(kind, time.perf_counter() - started, code)


async def _probe_all(
    pairs: list[tuple[str, Target]], concurrency: int
) -> tuple[list[Outcome], float, dict[str, float]]:
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=concurrency))
    adapters: dict[str, CameraAdapter] = {"onvif": OnvifAdapter(), "rtsp": RtspAdapter()}
    # One probe of each kind first: loading the ONVIF WSDLs and FFmpeg's codecs happens once.
    warmup = {}
    for kind in sorted({kind for kind, _ in pairs}):
        target = next(t for k, t in pairs if k == kind)
        warmup[kind] = round((await _probe(adapters[kind], kind, target)).seconds, 3)
    limit = asyncio.Semaphore(concurrency)

    async def bounded(kind: str, target: Target) -> Outcome:
        async with limit:
            return await _probe(adapters[kind], kind, target)

    _reset_peak_rss()
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(bounded(kind, target) for kind, target in pairs))
    return outcomes, time.perf_counter() - started, warmup


def bench_probes(endpoints: Endpoints, concurrency: int, timeout_s: float = 10.0) -> dict[str, Any]:
    """Probe every simulated camera once, at most `concurrency` at a time."""
    pairs = endpoints.targets(timeout_s)
    concurrency = concurrency or len(pairs)
    note(f"probing {len(pairs)} cameras, {concurrency} at a time")
    rss_before = _rss_mb("VmRSS")
    outcomes, wall, warmup = asyncio.run(_probe_all(pairs, concurrency))
    ok = sum(o.code == "ok" for o in outcomes)
    return {
        "cameras": len(pairs),
        "concurrency": concurrency,
        "timeout_s": timeout_s,
        "wall_s": round(wall, 3),
        "cameras_per_s": round(ok / wall, 1),
        "succeeded": ok,
        "failed": dict(Counter(o.code for o in outcomes if o.code != "ok")),
        "all": _summary(outcomes),
        "by_kind": {
            kind: _summary([o for o in outcomes if o.kind == kind])
            for kind in sorted({o.kind for o in outcomes})
        },
        "warmup_probe_s": warmup,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _rss_mb("VmHWM"),
    }


def _summary(outcomes: list[Outcome]) -> dict[str, Any]:
    ms = sorted(o.seconds * 1000 for o in outcomes)
    return {
        "count": len(ms),
        "succeeded": sum(o.code == "ok" for o in outcomes),
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(_percentile(ms, 95), 1) if ms else None,
        "max_ms": round(ms[-1], 1) if ms else None,
    }


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def _reset_peak_rss() -> None:
    """Start VmHWM afresh (Linux >= 4.0), so the peak is the probes' own, not the imports'."""
    # Where it cannot, the peak covers the whole process, which only overstates it.
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- through the hub: API -> RabbitMQ -> c4hub worker ------------------------------------------


def _seed(url: str, key: str, endpoints: Endpoints) -> tuple[list[str], str, str]:
    """Measured camera ids, the warm-up camera's id and an operator token."""
    engine = create_engine(url)
    box = CredentialBox(key)
    with Session(engine) as session:
        org = create_organization(
            session, OrganizationCreate(slug="bench-district", name="Bench", kind="district")
        )
        ids = []
        # The last camera repeats the first: the warm-up job probes it, so no measured camera
        # is probed twice (a probe rewrites the record's stream URI with what it found).
        addresses = endpoints.addresses()
        for n, (adapter, uri) in enumerate([*addresses, addresses[0]]):
            data = {
                "location": {"type": "Point", "coordinates": [127.0 + n * 1e-4, 37.5]},
                "adapter": adapter,
                "stream_uri": uri,
            }
            if adapter == "onvif":
                data["credentials"] = {"username": USERNAME, "password": PASSWORD}
            camera = create_camera(session, box, CameraCreate.model_validate(data), org.id)
            ids.append(str(camera.id))
        token = create_token(session, Role.OPERATOR, None, "bench.adapters")
        session.commit()
    engine.dispose()
    return ids[:-1], ids[-1], token


@contextmanager
def _worker(env: dict[str, str], workers: int, log: Path) -> Iterator[None]:
    command = ["worker", "--concurrency", str(workers), "--loglevel", "warning"]
    with c4hub_processes([command], env, log):
        yield


def post(client: httpx.Client, camera_id: str) -> str:
    """Queue a probe of the camera; the job's id."""
    r = client.post(f"/api/v1/cameras/{camera_id}/probe")
    if r.status_code != 202:
        raise RuntimeError(f"POST probe answered {r.status_code}: {r.text[:300]}")
    job_id: str = r.json()["id"]
    return job_id


def _wait_jobs(client: httpx.Client, jobs: list[str], deadline: float) -> dict[str, dict[str, Any]]:
    """The final state of each job, polling until all finish or the deadline passes."""
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(jobs) and time.monotonic() < deadline:
        for job_id in jobs:
            if job_id not in done:
                job = client.get(f"/api/v1/probe-jobs/{job_id}").json()
                if job["state"] in ("succeeded", "failed"):
                    done[job_id] = job
        time.sleep(0.2)
    return done


def bench_hub_probes(endpoints: Endpoints, workers: int, timeout_s: float = 10.0) -> dict[str, Any]:
    """Probe every camera once through the node: POST, RabbitMQ, `c4hub worker`, database."""
    key = Fernet.generate_key().decode()
    data_dir = Path(tempfile.mkdtemp(prefix="c4hub-bench-"))
    with fresh_database() as url:
        camera_ids, warmup_id, token = _seed(url, key, endpoints)
        env = {
            **os.environ,
            "C4HUB_DATABASE_URL": url,
            "C4HUB_SECRET_KEY": key,
            "C4HUB_DATA_DIR": str(data_dir),
            "C4HUB_PROBE_TIMEOUT_S": str(timeout_s),
        }
        with served_node(url, data_dir, key) as base, _worker(env, workers, data_dir / "w.log"):
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                # One job first: it waits for the worker to start and warms its processes up.
                first = post(client, warmup_id)
                if not _wait_jobs(client, [first], time.monotonic() + 60):
                    raise RuntimeError(f"no worker ran the first job; see {data_dir / 'w.log'}")
                note(f"posting {len(camera_ids)} probes to the node, {workers} worker processes")
                started = time.perf_counter()
                jobs = [post(client, camera_id) for camera_id in camera_ids]
                posted = time.perf_counter() - started
                done = _wait_jobs(client, jobs, time.monotonic() + 30 + len(jobs) * timeout_s)
                wall = time.perf_counter() - started
    finished = list(done.values())
    ok = sum(job["state"] == "succeeded" for job in finished)
    return {
        "cameras": len(camera_ids),
        "worker_processes": workers,
        "post_s": round(posted, 3),
        "wall_s": round(wall, 3),
        "jobs_per_s": round(len(finished) / wall, 1),
        "succeeded": ok,
        "failed": dict(Counter(job["error_code"] for job in finished if job["state"] == "failed")),
        "unfinished": len(jobs) - len(finished),
        "failure_examples": {
            job["error_code"]: job["error_message"] for job in finished if job["state"] == "failed"
        },
    }


# --- health sweep: 1,000 registered cameras checked by the node --------------------------------

# Mount -> the finding a check of it must report (clean: none). Dead cameras point at a closed
# port. Shares of the registered cameras; the rest are clean.
TAMPERED = {"black": "dark", "blurred": "defocused", "shifted": "scene_changed", "frozen": "frozen"}
SWEEP_MIX = {"black": 0.05, "blurred": 0.05, "shifted": 0.05, "frozen": 0.05, "dead": 0.10}


def _sweep_plan(cameras: int) -> list[str]:
    """The mount each camera ends up on: clean, a tampered variant, or dead."""
    plan: list[str] = []
    for mount, share in SWEEP_MIX.items():
        plan += [mount] * round(cameras * share)
    return plan + ["clean"] * (cameras - len(plan))


def _seed_sweep(url: str, key: str, bases: list[str], plan: list[str]) -> list[str]:
    """Register the cameras, each on the clean view of one server (dead ones on a closed port)."""
    engine = create_engine(url)
    box = CredentialBox(key)
    dead = f"rtsp://127.0.0.1:{free_port()}/gone"
    ids = []
    with Session(engine) as session:
        org = create_organization(
            session, OrganizationCreate(slug="bench-sweep", name="Bench", kind="district")
        )
        for n, mount in enumerate(plan):
            uri = dead if mount == "dead" else f"{bases[n % len(bases)]}/clean"
            data = {
                "location": {"type": "Point", "coordinates": [127.0 + n * 1e-4, 37.5]},
                "adapter": "rtsp",
                "stream_uri": uri,
            }
            camera = create_camera(session, box, CameraCreate.model_validate(data), org.id)
            ids.append(str(camera.id))
        session.commit()
    engine.dispose()
    return ids


def _sweep_now(url: str) -> float:
    """Make every camera due and send one sweep, as beat would; the time it was sent."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE camera_health SET next_check_at = now()"))
    engine.dispose()
    from hub.worker import HEALTH_QUEUE, celery_app

    sent = time.perf_counter()
    celery_app.send_task("hub.health.tasks.sweep", queue=HEALTH_QUEUE)
    return sent


def _wait_checked(url: str, cameras: int, since: datetime, deadline: float) -> int:
    """Poll until every camera has a check newer than `since`; how many have one."""
    engine = create_engine(url)
    checked = 0
    query = text(
        "SELECT count(*) FROM camera_health WHERE (last_check->>'checked_at')::timestamptz >= :t"
    )
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                checked = int(conn.execute(query, {"t": since}).scalar_one())
            if checked >= cameras:
                break
            time.sleep(0.25)
    finally:
        engine.dispose()
    return checked


def _tamper_the_cameras(url: str, ids: list[str], plan: list[str], bases: list[str]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for n, (camera_id, mount) in enumerate(zip(ids, plan, strict=True)):
            if mount in TAMPERED:
                uri = f"{bases[n % len(bases)]}/{mount}"
                conn.execute(
                    text("UPDATE cameras SET stream_uri = :u WHERE id = :i"),
                    {"u": uri, "i": camera_id},
                )
    engine.dispose()


def _detection(url: str, ids: list[str], plan: list[str]) -> dict[str, Any]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT camera_id::text, last_check FROM camera_health")).all()
    engine.dispose()
    checks = {camera_id: check for camera_id, check in rows}
    by_mount: dict[str, list[dict[str, Any]]] = {}
    for camera_id, mount in zip(ids, plan, strict=True):
        by_mount.setdefault(mount, []).append(checks.get(camera_id) or {})
    rates: dict[str, Any] = {}
    for mount, found in by_mount.items():
        expected = {"clean": None, "dead": "unreachable", **TAMPERED}[mount]
        if expected is None:
            flagged = sum(bool(check.get("findings")) for check in found)
            rates["clean"] = {"cameras": len(found), "flagged": flagged}
        else:
            hits = sum(expected in check.get("findings", []) for check in found)
            rates[mount] = {
                "cameras": len(found),
                "finding": expected,
                "flagged": hits,
                "detection_rate": round(hits / len(found), 4) if found else None,
            }
    return rates


def bench_health_sweep(cameras: int, workers: int, batch: int, servers: int) -> dict[str, Any]:
    """Register `cameras` RTSP cameras over `servers` GStreamer servers; sweep them twice with
    `c4hub worker` processes: once on the clean view (baselines are learned), then after a
    fifth of them were tampered with or died. Each sweep is timed from send to last check."""
    plan = _sweep_plan(cameras)
    key = Fernet.generate_key().decode()
    data_dir = Path(tempfile.mkdtemp(prefix="c4hub-bench-sweep-"))
    result: dict[str, Any] = {
        "cameras": cameras,
        "rtsp_servers": servers,
        "worker_processes": workers,
        "batch": batch,
        "mix": dict(Counter(plan)),
    }
    with ExitStack() as stack, fresh_database() as url:
        bases = [stack.enter_context(rtsp_server(served_videos())) for _ in range(servers)]
        ids = _seed_sweep(url, key, bases, plan)
        env = {
            **os.environ,
            "C4HUB_DATABASE_URL": url,
            "C4HUB_SECRET_KEY": key,
            "C4HUB_DATA_DIR": str(data_dir),
            "C4HUB_HEALTH_BATCH": str(batch),
            "C4HUB_HEALTH_INTERVAL_S": "86400",  # only the bench's own sweeps run
            "C4HUB_HEALTH_GRACE_CHECKS": "1",  # detection per check; grace is tested elsewhere
            "C4HUB_HEALTH_GRACE_S": "0",
        }
        with _worker(env, workers, data_dir / "w.log"):
            for phase in ("learn", "tampered"):
                if phase == "tampered":
                    _tamper_the_cameras(url, ids, plan, bases)
                since = datetime.now(UTC)
                sent = _sweep_now(url)
                checked = _wait_checked(url, cameras, since, time.monotonic() + 900)
                wall = time.perf_counter() - sent
                note(f"sweep '{phase}': {checked}/{cameras} cameras checked in {wall:.1f} s")
                result[f"sweep_{phase}"] = {
                    "checked": checked,
                    "wall_s": round(wall, 2),
                    "cameras_per_s": round(checked / wall, 1),
                }
            result["detection"] = _detection(url, ids, plan)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onvif", type=int, default=100, help="simulated ONVIF devices")
    parser.add_argument("--rtsp", type=int, default=100, help="simulated RTSP cameras")
    parser.add_argument("--concurrency", type=int, default=0, help="probes in flight (0: all)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per camera call, seconds")
    parser.add_argument("--hub", action="store_true", help="also probe through API and worker")
    parser.add_argument("--workers", type=int, default=2, help="`c4hub worker --concurrency`")
    parser.add_argument("--sweep", type=int, default=1000, help="cameras in the health sweep")
    parser.add_argument("--batch", type=int, default=50, help="cameras per health task")
    parser.add_argument("--rtsp-servers", type=int, default=4, help="servers for the sweep")
    parser.add_argument("--no-probes", action="store_true", help="only the health sweep")
    args = parser.parse_args()
    if args.onvif + args.rtsp == 0 and not args.no_probes:
        parser.error("give at least one camera (--onvif N or --rtsp N)")
    result: dict[str, Any] = {}
    if not args.no_probes:
        with simulated_endpoints(args.onvif, args.rtsp) as endpoints:
            note(f"{args.onvif} ONVIF devices and {args.rtsp} RTSP cameras are up")
            result["probes"] = bench_probes(endpoints, args.concurrency, args.timeout)
            if args.hub:
                result["probes_through_hub"] = bench_hub_probes(
                    endpoints, args.workers, args.timeout
                )
    if args.sweep:
        result["health_sweep"] = bench_health_sweep(
            args.sweep, args.workers, args.batch, args.rtsp_servers
        )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
