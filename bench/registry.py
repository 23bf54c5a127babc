"""Registry benchmark: bulk import rate and memory, then API against raw SQL for spatial queries.

Prints one JSON object on stdout (progress notes go to stderr). Not part of the test run; it
needs the test PostgreSQL server (tests.support.SERVER_URL, C4HUB_TEST_SERVER_URL).

  .venv/bin/python -m bench.registry                 # 1,000,000 cameras, 300 queries of each kind
  .venv/bin/python -m bench.registry --rows 100000   # a quick run

1. Writes a CSV of N cameras spread over Seoul (25 owners by name; a quarter with a heading,
   FOV and range, a twentieth PTZ, so footprints are computed) and a second of N/4.
2. Imports each into a fresh database with `c4hub import cameras` in a subprocess, timing it
   and watching the subprocess's peak RSS (VmHWM): memory must stay flat with file size.
   The import's own --timings give the seconds of its phases (copy, settle, indexes, rejects).
3. ANALYZE, then `c4hub serve` (its own process) serves random `near` (500 m) and `nearest`
   (k=10) queries over HTTP with keep-alive; the SQL those requests run is captured from
   hub.registry.query.search and replayed through psycopg at the same points, and the p50/p95
   of both are compared.
"""

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from hub.auth.service import create_token
from hub.registry.query import CameraQuery, search
from schemas.enums import CameraPurpose, Role
from tests.support import fresh_database, served_node

MIN_LON, MAX_LON, MIN_LAT, MAX_LAT = 126.76, 127.18, 37.42, 37.70
TARGET_ROWS_PER_S = 50_000
TARGET_RSS_MB = 300
OWNERS = [f"Seoul District Office {n:02d}" for n in range(1, 26)]
HEADER = [
    "camera_id", "latitude", "longitude", "name", "owner", "purpose", "heading_deg", "fov_deg",
    "range_m", "ptz", "count", "retention_days", "install_year",
]  # fmt: skip


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_cameras(path: Path, rows: int, seed: int) -> None:
    rnd = random.Random(seed)
    purposes = [p.value for p in CameraPurpose]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            lat = round(rnd.uniform(MIN_LAT, MAX_LAT), 6)
            lon = round(rnd.uniform(MIN_LON, MAX_LON), 6)
            kind = rnd.random()
            heading = fov = rng = ""
            ptz = "false"
            if kind < 0.25:  # a fixed camera with a known view
                heading = str(rnd.randrange(360))
                fov = str(rnd.choice((30, 60, 90, 110)))
                rng = str(rnd.choice((20, 35, 50, 80)))
            elif kind < 0.30:  # a PTZ dome: the full circle within its range
                ptz, rng = "true", str(rnd.choice((50, 100, 150)))
            writer.writerow(
                [
                    f"CAM-{n:08d}", lat, lon, f"Site {n}", rnd.choice(OWNERS),
                    rnd.choice(purposes), heading, fov, rng, ptz, rnd.randint(1, 6),
                    rnd.choice(("30", "14", "")), rnd.randint(2008, 2025),
                ]
            )  # fmt: skip


def c4hub() -> str:
    return str(Path(sys.executable).parent / "c4hub")


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set so far (VmHWM), 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])  # in kB
    return 0  # a zombie has no memory left to report


def wait_watching_rss(pid: int) -> tuple[int, int]:
    """Wait for the child; its exit status and peak RSS in KiB.

    Not wait4's ru_maxrss: on Linux that also counts the parent's pages the child had before
    exec (exec records the old address space's peak), so it reported this benchmark's own size
    rather than the import's. VmHWM belongs to the child's own address space.
    """
    peak = 0
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, peak
        peak = max(peak, peak_rss_kib(pid))
        time.sleep(0.02)


def timed_import(path: Path, rows: int, url: str) -> dict[str, Any]:
    """Run `c4hub import cameras` in a subprocess: wall time and its own peak RSS."""
    env = {**os.environ, "C4HUB_DATABASE_URL": url}
    command = [
        c4hub(), "import", "cameras", str(path), "--owner-column", "owner",
        "--create-owners", "district", "--timings",
    ]  # fmt: skip
    out, err = path.with_suffix(".out"), path.with_suffix(".err")
    started = time.perf_counter()
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
        status, peak_kib = wait_watching_rss(child.pid)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    output = out.read_text()
    if child.returncode != 0 or not output.startswith("imported"):
        raise SystemExit(f"import failed ({child.returncode}): {output}{err.read_text()}")
    timings = [x for x in err.read_text().splitlines() if x.startswith("timings: ")]
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "output": output.strip().splitlines()[-1],
        # seconds by phase, as the import itself measured them (c4hub import cameras --timings)
        "phases": json.loads(timings[-1].removeprefix("timings: ")) if timings else None,
    }


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(cuts[49], 2), round(cuts[94], 2)


@contextmanager
def captured_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every (statement, parameters) the engine sends while the block runs."""
    statements: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def query_sql(engine: Engine, queries: list[CameraQuery]) -> list[tuple[str, Any]]:
    """The SQL the API's search runs for each query (run once here, which also warms caches)."""
    found = []
    with Session(engine) as session:
        for q in queries:
            with captured_sql(engine) as statements:
                search(session, q, None)
            found.append(statements[-1])
    return found


def time_each(calls: list[Callable[[], object]]) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def compare(
    name: str, paths: list[str], sql: list[tuple[str, Any]], client: httpx.Client, dsn: str
) -> dict[str, Any]:
    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(path)
            response.raise_for_status()
            return response.content

        return call

    api = time_each([get(p) for p in paths])
    with psycopg.connect(dsn) as conn:
        raw = time_each(
            [lambda s=s, p=p: conn.execute(s, p).fetchall() for s, p in sql]  # type: ignore[misc]
        )
    api_p50, api_p95 = percentiles(api)
    raw_p50, raw_p95 = percentiles(raw)
    note(f"{name}: api p95 {api_p95} ms, raw p95 {raw_p95} ms")
    return {
        "queries": len(paths),
        "api_p50_ms": api_p50,
        "api_p95_ms": api_p95,
        "raw_p50_ms": raw_p50,
        "raw_p95_ms": raw_p95,
        "api_p95_within_2x_raw_plus_3ms": api_p95 <= 2 * raw_p95 + 3,
    }


def spatial_queries(url: str, tmp: Path, count: int, seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    points = [
        (round(rnd.uniform(MIN_LON, MAX_LON), 6), round(rnd.uniform(MIN_LAT, MAX_LAT), 6))
        for _ in range(count)
    ]
    engine = create_engine(url)
    with Session(engine) as session:
        token = create_token(session, Role.PLANNER, None, "bench")
        session.commit()
    near_q = [CameraQuery(near=p, radius_m=500) for p in points]
    nearest_q = [CameraQuery(nearest=p, k=10) for p in points]
    near_sql, nearest_sql = query_sql(engine, near_q), query_sql(engine, nearest_q)
    engine.dispose()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    headers = {"Authorization": f"Bearer {token}"}
    # The node runs as `c4hub serve` in its own process, as in production: a server thread in
    # this process would share the client's interpreter lock and measure that instead.
    node = served_node(url, tmp, Fernet.generate_key().decode())
    with node as base, httpx.Client(base_url=base, headers=headers) as client:
        for lon, lat in points[:30]:  # warm the node's connection pool and code paths
            client.get(f"/api/v1/cameras?nearest={lon},{lat}&k=10").raise_for_status()
        near = compare(
            "near",
            [f"/api/v1/cameras?near={lon},{lat}&radius_m=500" for lon, lat in points],
            near_sql,
            client,
            dsn,
        )
        nearest = compare(
            "nearest",
            [f"/api/v1/cameras?nearest={lon},{lat}&k=10" for lon, lat in points],
            nearest_sql,
            client,
            dsn,
        )
    return {"near_500m": near, "nearest_k10": nearest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result: dict[str, Any] = {"cpus": os.cpu_count(), "rows": args.rows}
    with tempfile.TemporaryDirectory(prefix="c4hub-bench-") as tmp_name:
        tmp = Path(tmp_name)
        big, small = tmp / "cameras.csv", tmp / "cameras-quarter.csv"
        note(f"writing {args.rows} and {args.rows // 4} cameras to {tmp}")
        write_cameras(big, args.rows, args.seed)
        write_cameras(small, args.rows // 4, args.seed + 1)
        result["file_mb"] = round(big.stat().st_size / 2**20, 1)
        with fresh_database() as url:
            note("importing the quarter-size file")
            result["import_quarter"] = timed_import(small, args.rows // 4, url)
        with fresh_database() as url:
            note("importing the full file")
            result["import"] = timed_import(big, args.rows, url)
            dsn = url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("ANALYZE cameras")
                server = conn.execute("SHOW server_version").fetchone()
            result["postgres"] = server[0] if server else None
            note(f"{args.queries} near and nearest queries through the API and as raw SQL")
            result["queries"] = spatial_queries(url, tmp, args.queries, args.seed)
    full, quarter = result["import"], result["import_quarter"]
    result["import_rate_ok"] = full["rows_per_s"] >= TARGET_ROWS_PER_S
    result["import_rss_ok"] = full["peak_rss_mb"] < TARGET_RSS_MB
    # flat: four times the rows may not cost more than a quarter more memory
    result["import_rss_flat"] = full["peak_rss_mb"] <= 1.25 * quarter["peak_rss_mb"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
