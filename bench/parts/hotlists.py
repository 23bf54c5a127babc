"""Hotlists at national scale: import rate of a 1,000,000-row list, then the time to match a
read against it, through the functions the pipeline calls; and plate-read search times.

  .venv/bin/python -c 'from bench.parts.hotlists import bench_hotlists; import json; \
      print(json.dumps(bench_hotlists()))'

Needs the test PostgreSQL server (tests.support). Steps:
1. A CSV of N entries (7-digit plates, a tenth confusable, a quarter white) is imported with
   hub.hotlists.importer.import_entries into a fresh database and committed.
2. Matching: hub.hotlists.service.match for random plates (hits and misses), and
   hub.plates.store.store_read (insert + match + alerts, what the pipeline calls per read),
   each timed per read; p50/p95 in ms. Target: match ≤ 1 ms p95.
3. Search: READS plate reads spread over a day, then hub.plates.store.search_reads for exact,
   fuzzy and partial (`12?4AB`-style) plates; p50/p95 in ms.
"""

import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from hub.hotlists import service
from hub.hotlists.importer import ImportOptions, import_entries
from hub.plates import store
from hub.registry.cameras import create_camera
from hub.registry.organizations import create_organization
from hub.registry.secrets import CredentialBox
from schemas.analytics import PlateRead
from schemas.camera import CameraCreate
from schemas.organization import OrganizationCreate
from tests.support import fresh_database

TARGET_MATCH_P95_MS = 1.0
CATEGORIES = ("stolen", "wanted", "watched", "resident_exempt")


def _write(path: Path, rows: int) -> None:
    with path.open("w") as f:
        f.write("plate,category,reason,legal_basis,priority,tolerance\n")
        for n in range(rows):
            tolerance = "confusable" if n % 10 == 0 else "exact"
            f.write(f"{n:07d}AB,{CATEGORIES[n % 4]},listed,National Act 7,{n % 5 + 1},")
            f.write(f"{tolerance}\n")


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 3),
    }


def _timed(fn: Any, args: list[Any]) -> list[float]:
    samples = []
    for arg in args:
        started = time.perf_counter()
        fn(arg)
        samples.append(time.perf_counter() - started)
    return samples


def bench_hotlists(
    rows: int = 1_000_000, probes: int = 2000, reads: int = 300_000
) -> dict[str, Any]:
    rng = random.Random(7)
    with fresh_database() as url, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "national.csv"
        _write(path, rows)
        engine = create_engine(url)
        with engine.begin() as conn:
            result = import_entries(conn, path, ImportOptions(source="national"))
        with engine.begin() as conn:
            conn.execute(text("ANALYZE hotlist_entries"))
        report: dict[str, Any] = {
            "entries": result.entries,
            "import_s": result.seconds,
            "import_rows_per_s": round(result.entries / result.seconds),
        }
        with Session(engine) as session:
            org = create_organization(
                session, OrganizationCreate(slug="bench", name="Bench", kind="district")
            )
            box = CredentialBox(Fernet.generate_key().decode())
            camera = create_camera(
                session,
                box,
                CameraCreate.model_validate(
                    {"location": {"type": "Point", "coordinates": [127.0, 37.5]}}
                ),
                org.id,
            )
            session.commit()
            now = datetime.now(UTC)
            plates = [f"{rng.randrange(rows * 2):07d}AB" for _ in range(probes)]  # half miss
            match = _timed(lambda p: service.match(session, p, now), plates)
            report["match"] = {**_ms(match), "target_p95_ms": TARGET_MATCH_P95_MS}

            def one(plate: str) -> None:
                read = PlateRead(
                    id=uuid.uuid4(), camera_id=camera.id, read_at=datetime.now(UTC),
                    plate=plate, confidence=0.9,
                )  # fmt: skip
                store.store_read(session, read)

            report["store_read"] = _ms(_timed(one, plates[:500]))
            session.commit()
            report["search"] = _search(session, camera.id, reads, rng)
        engine.dispose()
    return report


def _search(session: Session, camera_id: uuid.UUID, reads: int, rng: random.Random) -> Any:
    """Reads spread over the last day, then exact, fuzzy and partial searches."""
    session.execute(
        text(
            "INSERT INTO plate_reads (read_at, id, camera_id, plate, plate_key, confidence, "
            "location) SELECT now() - n * interval '86 ms', gen_random_uuid(), :camera, "
            "lpad((n * 7919 % 1000000)::text, 6, '0') || 'AB', "
            "lpad((n * 7919 % 1000000)::text, 6, '0') || 'A8', 0.9, "
            "ST_SetSRID(ST_MakePoint(127, 37.5), 4326) FROM generate_series(1::bigint, :reads) AS n"
        ),
        {"camera": camera_id, "reads": reads},
    )
    session.execute(text("ANALYZE plate_reads"))
    session.commit()
    targets = [f"{rng.randrange(1_000_000):06d}AB" for _ in range(200)]
    kinds = {
        "exact": [store.ReadQuery(plate=p) for p in targets],
        "fuzzy": [store.ReadQuery(plate=p, fuzzy=True) for p in targets],
        "partial": [store.ReadQuery(plate=p[:2] + "?" + p[3:]) for p in targets],
        "partial_suffix": [store.ReadQuery(plate="*" + p[2:]) for p in targets],
    }
    out: dict[str, Any] = {"reads": reads}
    for name, queries in kinds.items():
        out[name] = _ms(_timed(lambda q: store.search_reads(session, q, None), queries))
    # what the trigram index buys partial patterns: the same searches without it
    session.execute(text("DROP INDEX ix_plate_reads_plate_trgm"))
    for name in ("partial", "partial_suffix"):
        queries = kinds[name]
        out[f"{name}_without_trigram_index"] = _ms(
            _timed(lambda q: store.search_reads(session, q, None), queries)
        )
    session.rollback()
    return out
