"""Any detector the `ultralytics` package runs (.pt, .onnx, .engine, .tflite through LiteRT),
on the GPU where there is one. An optional extra: the package is imported only here, lazily."""

import os
from pathlib import Path
from typing import Any

import numpy as np

from hub.analytics.detection.base import Frame, check_frame, model_error, to_detection
from schemas.analytics import AnalyticsSettings, Detection, ObjectClass

# Ultralytics models name their classes; a custom model is mapped by name, not by COCO id.
CLASS_NAMES = {cls.value: cls for cls in ObjectClass}


def prepare_environment(data_dir: Path) -> None:
    """Keep ultralytics off the network, out of the home directory and off stdout (its log
    writes there, which would mix with a command's own output). It reads these when it is
    first imported, so this runs before the import; values already set are kept."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(data_dir / "ultralytics"))
    os.environ.setdefault("YOLO_VERBOSE", "False")


class UltralyticsDetector:
    def __init__(self, path: Path, settings: AnalyticsSettings, data_dir: Path) -> None:
        prepare_environment(data_dir)
        try:
            from ultralytics.models import YOLO
        except ImportError as exc:
            raise ImportError(
                "the ultralytics backend needs the optional extra: pip install 'c4hub[ultralytics]'"
            ) from exc
        self.size = settings.input_size
        self.confidence = settings.confidence
        self.wanted = set(settings.classes)
        try:
            # The model is read on first use; a blank frame makes a bad file fail here.
            self.model = YOLO(str(path), task="detect")
            self.predict(np.zeros((self.size, self.size, 3), dtype=np.uint8))
        except Exception as exc:  # ultralytics and its runtimes raise many untyped errors
            raise model_error(path, f"is not a detector ultralytics can run ({exc})") from exc
        names: dict[int, str] = self.model.names
        self.classes = {
            cid: CLASS_NAMES[name]
            for cid, name in names.items()
            if name in CLASS_NAMES and CLASS_NAMES[name] in self.wanted
        }

    def predict(self, frame: Frame) -> Any:
        """The ultralytics result for one frame (numpy frames are read as BGR); its `speed`
        holds the pre-processing, bare model and post-processing milliseconds."""
        results = self.model.predict(frame, imgsz=self.size, conf=self.confidence, verbose=False)
        return next(iter(results))

    def detect(self, frame: Frame) -> list[Detection]:
        """Objects in one H x W x 3 uint8 BGR frame."""
        frame = check_frame(frame)
        boxes = self.predict(frame).boxes
        xyxy = boxes.xyxy.cpu().numpy().astype(float)
        class_ids = boxes.cls.cpu().numpy().astype(int)
        scores = boxes.conf.cpu().numpy().astype(float)
        height, width = frame.shape[:2]
        detections = []
        for (x1, y1, x2, y2), cid, score in zip(xyxy, class_ids, scores, strict=True):
            if int(cid) not in self.classes:
                continue
            found = to_detection(self.classes[int(cid)], score, (x1, y1, x2, y2), width, height)
            if found is not None:
                detections.append(found)
        return detections
