"""Coverage and gaps of a city region with 10,000 and 100,000 cameras, against a baseline.

  .venv/bin/python -c 'from bench.parts.coverage import measure; import json; \
      print(json.dumps(measure()))'

Needs the test PostgreSQL server (tests.support). For each size, in a fresh database:
1. N cameras at random over a 20 km x 15 km region of Seoul (300 km²), owned by a district,
   the police and a parking agency: 70 % with a known view (heading, 60-100° FOV, 20-60 m
   range; the sector stored as the registry stores it), 30 % without heading (assumed 30 m
   circles). Purposes: half crime prevention, a fifth parking, a fifth traffic, the rest other.
2. hub.coverage.service.coverage of the whole region, uncached: covered area and share, by
   owner kind and purpose, the parking-sharing gain, and the gap polygons written to the cache
   (what GET /api/v1/coverage pays on a miss). Then the same call cached.
3. Baseline, in the same run: shapely 2 `union_all` of the same N polygons (sectors and
   circles) in UTM 52N, the union alone (no clipping, no groups, no gaps). `ratio` is our wall
   time over the baseline's. Targets: 10k ≤ 1 s, 100k ≤ 15 s.

The machine may be shared: wall times then grow with its load, so CPU seconds are reported
too, with their ratio: for ours the whole machine's during the call (the backend and its
parallel workers; meaningful only on an otherwise idle machine), for the baseline this
process's.
"""

import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from cryptography.fernet import Fernet
from pyproj import Transformer
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from hub.coverage import service
from hub.coverage.sectors import view_ring
from hub.registry.fov import ring_wkt
from hub.settings import Settings
from tests.support import fresh_database

REGION = (126.90, 37.48, 127.125, 37.615)  # ~20 km x 15 km
TARGETS_S = {10_000: 1.0, 100_000: 15.0}
OWNERS = (("district", "district"), ("police", "police"), ("parking-agency", "operator"))
PURPOSES = ["crime_prevention"] * 5 + ["parking_enforcement"] * 2 + ["traffic"] * 2 + ["other"]
DEFAULT_RANGE_M = 30.0

Camera = tuple[float, float, float | None, float | None, float | None, str, int]


def _cameras(n: int, rng: random.Random) -> list[Camera]:
    west, south, east, north = REGION
    out: list[Camera] = []
    for _ in range(n):
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        view: tuple[float | None, float | None, float | None] = (None, None, None)
        if rng.random() < 0.7:
            view = (rng.uniform(0, 360), rng.uniform(60, 100), rng.uniform(20, 60))
        out.append((lon, lat, *view, rng.choice(PURPOSES), rng.randrange(len(OWNERS))))
    return out


def _ring(c: Camera) -> list[tuple[float, float]]:
    lon, lat, heading, fov, range_m, _, _ = c
    view = view_ring(
        lon, lat, heading_deg=heading, fov_deg=fov, range_m=range_m, ptz=False,
        default_range_m=DEFAULT_RANGE_M,
    )  # fmt: skip
    return view.ring


def _load(session: Session, cameras: list[Camera]) -> None:
    owners = []
    for slug, kind in OWNERS:
        org_id = uuid.uuid4()
        session.execute(
            text("INSERT INTO organizations (id, slug, name, kind) VALUES (:i, :s, :s, :k)"),
            {"i": org_id, "s": slug, "k": kind},
        )
        owners.append(org_id)
    rows = []
    for c in cameras:
        lon, lat, heading, fov, range_m, purpose, owner = c
        rows.append(
            {
                "id": uuid.uuid4(),
                "owner": owners[owner],
                "purpose": purpose,
                "location": f"SRID=4326;POINT({lon} {lat})",
                "heading": heading,
                "fov_deg": fov,
                "range_m": range_m,
                "fov": ring_wkt(_ring(c)) if heading is not None else None,
            }
        )
    session.execute(
        text(
            "INSERT INTO cameras (id, owner_id, purpose, location, heading_deg, fov_deg, range_m, "
            "adapter, status, fov) VALUES (:id, :owner, :purpose, ST_GeomFromEWKT(:location), "
            ":heading, :fov_deg, :range_m, 'none', 'online', ST_GeomFromEWKT(:fov))"
        ),
        rows,
    )
    session.execute(text("ANALYZE cameras"))


def _machine_cpu_s() -> float:
    """CPU seconds every process on the machine has used so far (/proc/stat): the coverage runs
    in the session's backend and in the parallel workers it starts, which come and go."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system = (int(f) for f in fields[:3])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def _baseline_s(cameras: list[Camera]) -> tuple[float, float]:
    """shapely 2: the union of the same polygons in UTM 52N, timed alone (wall, CPU)."""
    project = Transformer.from_crs(4326, 32652, always_xy=True)
    polygons = []
    for c in cameras:
        ring = np.array(_ring(c))
        x, y = project.transform(ring[:, 0], ring[:, 1])
        polygons.append(shapely.Polygon(np.column_stack([x, y])))
    started, cpu = time.perf_counter(), time.process_time()
    shapely.union_all(polygons)
    return time.perf_counter() - started, time.process_time() - cpu


def _region() -> dict[str, Any]:
    west, south, east, north = REGION
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _one_size(n: int, seed: int) -> dict[str, Any]:
    cameras = _cameras(n, random.Random(seed))
    with fresh_database() as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=url, data_dir=Path(tmp), secret_key=Fernet.generate_key().decode()
        )
        engine = create_engine(url)
        with Session(engine) as session:
            _load(session, cameras)
            session.commit()
            target = service.geojson_target(session, _region(), settings)
            cpu = _machine_cpu_s()
            started = time.perf_counter()
            outcome = service.coverage(
                session, target, obstacles=False, scope=None, settings=settings
            )
            session.commit()
            seconds = time.perf_counter() - started
            cpu = _machine_cpu_s() - cpu
            result = dict(outcome.entry.result)
            started = time.perf_counter()
            again = service.coverage(
                session, target, obstacles=False, scope=None, settings=settings
            )
            cached_s = time.perf_counter() - started
            assert again.cached
        engine.dispose()
    baseline, baseline_cpu = _baseline_s(cameras)
    return {
        "cameras": n,
        "region_km2": round(result["area_m2"] / 1e6, 1),
        "seconds": round(seconds, 3),
        "target_s": TARGETS_S.get(n),
        "within_target": seconds <= TARGETS_S.get(n, float("inf")),
        "cached_seconds": round(cached_s, 4),
        "machine_cpu_seconds": round(cpu, 2),
        "shapely_union_seconds": round(baseline, 3),
        "shapely_union_cpu_seconds": round(baseline_cpu, 2),
        "ratio": round(seconds / baseline, 2),
        "cpu_ratio": round(cpu / baseline_cpu, 2),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "share": result["share"],
        "gaps": result["gaps"],
        "assumed_360": result["assumed_360"]["count"],
        "tile_m": settings.coverage_tile_m,
    }


def measure(sizes: tuple[int, ...] = (10_000, 100_000), seed: int = 6) -> dict[str, object]:
    return {"coverage": [_one_size(n, seed + i) for i, n in enumerate(sizes)]}
