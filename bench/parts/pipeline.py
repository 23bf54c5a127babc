"""Pipeline speed against the bare model, in the same run: frames/s of the whole per-frame
analysis (frame check, letterbox, YOLOX, decoding, NMS, ByteTrack, the rules) over frames of
one-by-one-person-detection.mp4, against frames/s of onnxruntime's `session.run` alone on the
same frames (each letterboxed just before its run, outside the timing), the two interleaved
frame by frame.

  .venv/bin/python -m bench.parts.pipeline
"""

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import av
import numpy as np
import numpy.typing as npt

from adapters.base import ColorFrame, Target
from hub.analytics.detection import load_detector
from hub.analytics.detection.onnx import OnnxYoloxDetector, letterbox
from hub.analytics.pipeline import Pipeline
from hub.analytics.rules import RuleEngine
from hub.analytics.tracking import Tracker
from schemas.analytics import AnalyticsSettings

SHARED = Path(os.environ.get("C4HUB_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
MODELS = Path(os.environ.get("C4HUB_MODELS_DIR", SHARED / "models"))
VIDEO = SHARED / "data" / "video" / "one-by-one-person-detection.mp4"
SETTINGS = AnalyticsSettings.model_validate(
    {
        "enabled": True,
        "fps": 5.0,
        "classes": ["person"],
        "zones": [{"id": "floor", "polygon": [[0.3, 0.6], [0.9, 0.6], [0.9, 1], [0.3, 1]]}],
        "lines": [{"id": "exit", "start": [0.75, 1.0], "end": [0.75, 0.5]}],
    }
)


def frames(count: int) -> list[tuple[float, ColorFrame]]:
    out: list[tuple[float, ColorFrame]] = []
    with av.open(str(VIDEO)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % 2 == 0 and frame.pts is not None and frame.time_base is not None:
                image = cast(ColorFrame, frame.to_ndarray(format="bgr24"))
                out.append((float(frame.pts * frame.time_base), image))
            if len(out) == count:
                break
    return out


def interleaved_round(
    detector: OnnxYoloxDetector, sample: list[tuple[float, ColorFrame]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Seconds per frame of the bare model and of the whole pipeline (a fresh one: new tracks,
    new rules), frame by frame on the same frames. The order alternates per frame, so neither
    always runs right after the other."""
    camera = uuid.uuid4()
    rules = RuleEngine(camera, list(SETTINGS.zones), list(SETTINGS.lines), (127.0, 37.5))
    pipeline = Pipeline(camera, SETTINGS, detector, Tracker(frame_rate=5.0), rules)
    bare, full = np.zeros(len(sample)), np.zeros(len(sample))
    for index, (at, frame) in enumerate(sample):
        when = datetime.fromtimestamp(1.8e9 + at, UTC)
        for step in ("bare", "full") if index % 2 == 0 else ("full", "bare"):
            if step == "bare":
                blob = letterbox(frame, detector.size)[0]  # made outside the timing
                started = time.perf_counter()
                detector.infer(blob)
                bare[index] = time.perf_counter() - started
            else:
                started = time.perf_counter()
                pipeline.process(when, frame)
                full[index] = time.perf_counter() - started
    return bare, full


def bench_pipeline(count: int = 300, rounds: int = 5) -> dict[str, object]:
    """Both on the same frames and the same onnxruntime session (so the same intra-op
    threads), interleaved frame by frame: on a shared machine, load that comes and goes then
    weighs on both alike instead of on whichever happened to run at the time.

    "pipeline_over_bare" is the median over rounds of each round's ratio (total bare time
    over total pipeline time): each ratio compares the two over the same stretch of time."""
    sample = frames(count)
    detector = load_detector(SETTINGS, MODELS)
    assert isinstance(detector, OnnxYoloxDetector)
    for _, frame in sample[:5]:
        detector.detect(frame)  # warm up
    timed = [interleaved_round(detector, sample) for _ in range(rounds)]
    bare = np.array([b for b, _ in timed])  # rounds x frames, seconds
    full = np.array([f for _, f in timed])
    ratios = bare.sum(axis=1) / full.sum(axis=1)
    threads = detector.session.get_session_options().intra_op_num_threads
    return {
        "video": VIDEO.name,
        "frames": len(sample),
        "rounds": rounds,
        "intra_op_threads": threads or "onnxruntime default (one per core)",
        "bare_model_fps": round(float(np.median(len(sample) / bare.sum(axis=1))), 1),
        "pipeline_fps": round(float(np.median(len(sample) / full.sum(axis=1))), 1),
        "pipeline_over_bare": round(float(np.median(ratios)), 3),
        "per_round": [round(float(r), 3) for r in ratios],
        "target": 0.85,
    }


def bench_latency(count: int = 700) -> dict[str, object]:
    """Frame to stored event: the person video fed to a real segment (detector, tracker,
    rules, evidence, PostgreSQL) as fast as it is analysed, each frame stamped with the time
    it was handed over; an event's latency is its row's insert time minus that stamp."""
    import tempfile

    from cryptography.fernet import Fernet
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from hub.analytics.context import AnalyticsContext
    from hub.analytics.evidence import EvidenceStore
    from hub.analytics.models import CameraAnalytics
    from hub.analytics.segments import run_segment
    from hub.db import make_sessionmaker
    from hub.registry.cameras import create_camera
    from hub.registry.organizations import create_organization
    from hub.registry.secrets import CredentialBox
    from schemas.camera import CameraCreate
    from schemas.organization import OrganizationCreate
    from tests.support import fresh_database

    sample = frames(count)
    box = CredentialBox(Fernet.generate_key().decode())
    data_dir = Path(tempfile.mkdtemp(prefix="c4hub-bench-latency-"))
    with fresh_database() as url:
        engine = create_engine(url)
        with Session(engine) as session:
            org = create_organization(
                session, OrganizationCreate(slug="bench", name="Bench", kind="municipality")
            )
            camera = create_camera(
                session,
                box,
                CameraCreate.model_validate(
                    {
                        "location": {"type": "Point", "coordinates": [127.0, 37.5]},
                        "adapter": "rtsp",
                        "stream_uri": "rtsp://127.0.0.1:1/file",
                    }
                ),
                org.id,
            )
            session.add(
                CameraAnalytics(camera_id=camera.id, settings=SETTINGS.model_dump(mode="json"))
            )
            session.commit()
            camera_id = camera.id

        def source(
            target: Target, fps: float, seconds: float
        ) -> Iterator[tuple[float, ColorFrame]]:
            for _, frame in sample:
                yield time.time(), frame

        ctx = AnalyticsContext(
            sessions=make_sessionmaker(engine),
            box=box,
            models_dir=MODELS,
            data_dir=data_dir,
            evidence=EvidenceStore(data_dir / "evidence"),
            source=source,
        )
        started = time.perf_counter()
        report = run_segment(camera_id, 3600.0, ctx, lambda sighting: None)
        wall = time.perf_counter() - started
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    text(
                        "SELECT extract(epoch FROM received_at - occurred_at) * 1000 "
                        "FROM camera_events WHERE camera_id = :c"
                    ),
                    {"c": camera_id},
                )
                .scalars()
                .all()
            )
        engine.dispose()
    latencies = sorted(float(v) for v in rows)
    return {
        "frames": report.frames,
        "events": report.events,
        "frames_per_s": round(report.frames / wall, 1),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
    }


if __name__ == "__main__":
    print(json.dumps({"pipeline": bench_pipeline(), "latency": bench_latency()}, indent=2))
