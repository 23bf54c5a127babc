"""Pipeline speed against the bare model, in the same run: frames/s of the whole analysis
(frame check, letterbox, YOLOX, decoding, NMS, ByteTrack, the rules) over frames of
one-by-one-person-detection.mp4, against frames/s of onnxruntime's `session.run` alone on the
same frames, back to back (each frame letterboxed beforehand, outside the timing).

The pipeline runs as a segment runs it, streamed (`Pipeline.stream`: the next frame's
letterbox and model run overlap this frame's decoding, tracking and rules), and also frame by
frame (`Pipeline.process`) for comparison. Streaming cannot be interleaved frame by frame with
the bare model, so the three alternate in blocks: a round goes through the sample in blocks
of a few frames, timing each block three ways (bare, streamed, one by one; the order turns by
one each block), so load that comes and goes on a shared machine weighs on all three alike.
Each round has one streamed and one frame-by-frame pipeline that see all its frames in order
(tracks and rules carry on from block to block). The stream stays open for the whole round
and is let through a block at a time, so it sits idle while the others are timed; each of
its blocks starts with the stream empty and ends with it drained (the first frame's
letterbox and the last frame's tracking overlap nothing), a cost the streamed figure carries.

  .venv/bin/python -m bench.parts.pipeline
"""

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import av
import numpy as np

from adapters.base import ColorFrame, Target
from hub.analytics.detection import load_detector
from hub.analytics.detection.onnx import OnnxYoloxDetector, letterbox
from hub.analytics.pipeline import Pipeline
from hub.analytics.rules import RuleEngine
from hub.analytics.tracking import Tracker
from schemas.analytics import AnalyticsSettings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hub.registry.secrets import CredentialBox

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
KINDS = ("bare", "streamed", "one_by_one")


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


def new_pipeline(detector: OnnxYoloxDetector) -> Pipeline:
    """A fresh pipeline: new tracks, new rules."""
    camera = uuid.uuid4()
    rules = RuleEngine(camera, list(SETTINGS.zones), list(SETTINGS.lines), (127.0, 37.5))
    return Pipeline(camera, SETTINGS, detector, Tracker(frame_rate=5.0), rules)


def gated(
    sample: list[tuple[datetime, ColorFrame]], block: int, gate: threading.Semaphore
) -> Iterator[tuple[datetime, ColorFrame]]:
    """The sample a block at a time, each block once the gate lets it through: between two
    blocks the stream has nothing to read, so it sits idle while the others are timed."""
    for start in range(0, len(sample), block):
        gate.acquire()
        yield from sample[start : start + block]


def timed_round(
    detector: OnnxYoloxDetector, sample: list[tuple[datetime, ColorFrame]], block: int
) -> dict[str, float]:
    """Seconds each kind took over the whole sample, block by block. The streamed pipeline is
    one stream over the whole sample, let through a block at a time."""
    gate = threading.Semaphore(0)
    streamed = new_pipeline(detector).stream(gated(sample, block, gate))
    one_by_one = new_pipeline(detector)
    total = dict.fromkeys(KINDS, 0.0)
    for number, start in enumerate(range(0, len(sample), block)):
        part = sample[start : start + block]
        blobs = [letterbox(frame, detector.size)[0] for _, frame in part]
        for kind in KINDS[number % 3 :] + KINDS[: number % 3]:
            started = time.perf_counter()
            if kind == "bare":
                for blob in blobs:
                    detector.infer(blob)
            elif kind == "streamed":
                gate.release()
                for _ in part:
                    next(streamed)
            else:
                for at, frame in part:
                    one_by_one.process(at, frame)
            total[kind] += time.perf_counter() - started
    assert next(streamed, None) is None  # the stream ends with the sample
    return total


def bench_pipeline(count: int = 300, block: int = 25, rounds: int = 5) -> dict[str, object]:
    """All on the same onnxruntime session (so the same intra-op threads).

    "streamed_over_bare" is the median over rounds of each round's ratio (bare time over
    streamed pipeline time for the same frames), "one_by_one_over_bare" the same for
    `Pipeline.process` frame by frame."""
    sample = [(datetime.fromtimestamp(1.8e9 + at, UTC), frame) for at, frame in frames(count)]
    detector = load_detector(SETTINGS, MODELS)
    assert isinstance(detector, OnnxYoloxDetector)
    for _ in new_pipeline(detector).stream(sample[:10]):  # warm up
        pass
    timed = [timed_round(detector, sample, block) for _ in range(rounds)]
    seconds = {kind: np.array([total[kind] for total in timed]) for kind in KINDS}
    streamed = seconds["bare"] / seconds["streamed"]
    one_by_one = seconds["bare"] / seconds["one_by_one"]
    threads = detector.session.get_session_options().intra_op_num_threads
    return {
        "video": VIDEO.name,
        "frames": len(sample),
        "frames_per_block": block,
        "rounds": rounds,
        "intra_op_threads": threads or "onnxruntime default (one per core)",
        "bare_model_fps": round(float(np.median(len(sample) / seconds["bare"])), 1),
        "streamed_fps": round(float(np.median(len(sample) / seconds["streamed"])), 1),
        "one_by_one_fps": round(float(np.median(len(sample) / seconds["one_by_one"])), 1),
        "streamed_over_bare": round(float(np.median(streamed)), 3),
        "per_round": [round(float(r), 3) for r in streamed],
        "one_by_one_over_bare": round(float(np.median(one_by_one)), 3),
        "one_by_one_per_round": [round(float(r), 3) for r in one_by_one],
        "target": 0.85,
    }


def bench_latency(count: int = 700, paced: int = 300, paced_fps: float = 10.0) -> dict[str, object]:
    """Frame to stored event: the person video fed to a real segment (detector, tracker,
    rules, evidence, PostgreSQL), each frame stamped with the time it was handed over; an
    event's latency is its row's insert time minus that stamp.

    Two ways, each with a camera of its own: `count` frames as fast as they are analysed
    (the segment saturated: a streamed segment reads a frame while the one or two before it
    are still being analysed, so the figure includes that wait), and the first `paced` frames
    at `paced_fps`, below what the pipeline keeps up with, as a live camera hands them over."""
    import tempfile

    from cryptography.fernet import Fernet
    from sqlalchemy import create_engine

    from hub.registry.secrets import CredentialBox
    from tests.support import fresh_database

    sample = [frame for _, frame in frames(count)]
    box = CredentialBox(Fernet.generate_key().decode())
    data_dir = Path(tempfile.mkdtemp(prefix="c4hub-bench-latency-"))
    with fresh_database() as url:
        engine = create_engine(url)
        try:
            fastest = segment_latency(engine, box, data_dir, sample, 0.0)
            live = segment_latency(engine, box, data_dir, sample[:paced], 1 / paced_fps)
        finally:
            engine.dispose()
    return {"as_fast_as_analysed": fastest, f"paced_{paced_fps:g}_fps": live}


def segment_latency(
    engine: "Engine", box: "CredentialBox", data_dir: Path, sample: list[ColorFrame], pace_s: float
) -> dict[str, object]:
    """One segment over `sample` on a new camera, a frame handed over every `pace_s` (0: as
    soon as the segment asks for it)."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from hub.analytics.context import AnalyticsContext
    from hub.analytics.evidence import EvidenceStore
    from hub.analytics.models import CameraAnalytics
    from hub.analytics.segments import run_segment
    from hub.db import make_sessionmaker
    from hub.registry.cameras import create_camera
    from hub.registry.organizations import create_organization
    from schemas.camera import CameraCreate
    from schemas.organization import OrganizationCreate

    with Session(engine) as session:
        slug = f"bench-{uuid.uuid4().hex[:8]}"
        org = create_organization(
            session, OrganizationCreate(slug=slug, name="Bench", kind="municipality")
        )
        location = {"type": "Point", "coordinates": [127.0, 37.5]}
        camera = create_camera(
            session,
            box,
            CameraCreate.model_validate(
                {"location": location, "adapter": "rtsp", "stream_uri": "rtsp://127.0.0.1:1/f"}
            ),
            org.id,
        )
        session.add(CameraAnalytics(camera_id=camera.id, settings=SETTINGS.model_dump(mode="json")))
        session.commit()
        camera_id = camera.id

    def source(target: Target, fps: float, seconds: float) -> Iterator[tuple[float, ColorFrame]]:
        due = time.monotonic()
        for frame in sample:
            time.sleep(max(0.0, due - time.monotonic()))
            due += pace_s
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
        rows = conn.execute(
            text(
                "SELECT extract(epoch FROM received_at - occurred_at) * 1000 "
                "FROM camera_events WHERE camera_id = :c"
            ),
            {"c": camera_id},
        ).scalars()
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
