"""Detector speed: ms per frame (p50/p95) of each backend at input sizes 416 and 640, over
frames of the shared car-detection.mp4 (768x432), on this machine's CPU.

"detect_ms" is the whole `Detector.detect` call (frame check, letterbox, model, decoding,
NMS, mapping to Detections); "model_ms" the bare model run (onnxruntime's `session.run`;
for ultralytics its own `speed["inference"]`). detect/model p50 is the pipeline's overhead.

  .venv/bin/python -m bench.parts.detectors        # prints the JSON
"""

import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from hub.analytics.detection import ModelError, load_detector
from hub.analytics.detection.onnx import OnnxYoloxDetector, letterbox
from hub.analytics.detection.ultralytics import UltralyticsDetector
from schemas.analytics import AnalyticsSettings, DetectorBackend

SHARED = Path(os.environ.get("C4HUB_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
MODELS = Path(os.environ.get("C4HUB_MODELS_DIR", SHARED / "models"))
VIDEO = SHARED / "data" / "video" / "car-detection.mp4"
SIZES = (416, 640)
WARM_UP = 3


def video_frames(count: int) -> list[np.ndarray]:
    """`count` frames spread over the video, as BGR arrays."""
    with av.open(str(VIDEO)) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    step = max(1, len(frames) // count)
    return frames[::step][:count]


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return {"p50": round(statistics.median(samples), 2), "p95": round(cuts[18], 2)}


def timed(run: Callable[[np.ndarray], object], frames: list[np.ndarray]) -> list[float]:
    """Milliseconds of each call, after a few untimed warm-up calls."""
    for frame in frames[:WARM_UP]:
        run(frame)
    samples = []
    for frame in frames:
        start = time.perf_counter()
        run(frame)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def model_samples(detector: object, frames: list[np.ndarray]) -> list[float]:
    """The bare model time of each frame."""
    if isinstance(detector, OnnxYoloxDetector):
        blobs = [letterbox(frame, detector.size)[0] for frame in frames]
        return timed(lambda blob: detector.infer(blob), blobs)
    assert isinstance(detector, UltralyticsDetector)
    return [float(detector.predict(frame).speed["inference"]) for frame in frames]


def bench_one(backend: DetectorBackend, size: int, frames: list[np.ndarray]) -> dict[str, object]:
    settings = AnalyticsSettings(backend=backend, input_size=size)
    try:
        detector = load_detector(settings, MODELS, Path(tempfile.gettempdir()) / "c4hub-bench")
    except (ModelError, ImportError) as exc:
        return {"skipped": str(exc)}
    detect = percentiles(timed(detector.detect, frames))
    model = percentiles(model_samples(detector, frames))
    return {
        "model": settings.model
        or ("yolox_nano.onnx" if backend is DetectorBackend.ONNX else "yolo11n_int8.tflite"),
        "detect_ms": detect,
        "model_ms": model,
        "pipeline_ratio": round(detect["p50"] / model["p50"], 2),
    }


def bench_detectors(frame_count: int = 60) -> dict[str, object]:
    frames = video_frames(frame_count)
    height, width = frames[0].shape[:2]
    results = {
        backend.value: {str(size): bench_one(backend, size, frames) for size in SIZES}
        for backend in DetectorBackend
    }
    return {"video": VIDEO.name, "frame": f"{width}x{height}", "frames": len(frames), **results}


if __name__ == "__main__":
    print(json.dumps(bench_detectors(), indent=2))
