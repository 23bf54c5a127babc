"""Plate reading: the plate detector (open-image-models YOLOv9) finds plates in a frame, two
OCR models (fast-plate-ocr CCT-XS v1 and v2) read the crops in batches, normalize.py tidies the
text and resolves look-alikes by the region's plate formats.

Frames and crops are numpy arrays in OpenCV's BGR order (what cv2 decoders and the stream
readers give); the OCR models want RGB and get it here. Models load once, from
settings.models_dir (C4HUB_MODELS_DIR), and never from a hub (that would download).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from cv2.typing import MatLike
from fast_plate_ocr.core.process import resize_image
from fast_plate_ocr.inference.config import PlateConfig
from open_image_models import create_detector

from hub.plates.normalize import normalize, resolve
from schemas.analytics import Box

DETECTOR_FILE = "yolo-v9-t-416-license-plates-end2end1.onnx"
# Two OCR models, their per-character probabilities averaged: on the labelled EU set v1 alone
# misreads one crop and one detection, v2 alone one crop, the pair none (see bench/parts).
OCR_MODELS = (
    ("cct_xs_v1_global.onnx", "cct_xs_v1_global_plate_config.yaml"),
    ("cct_xs_v2_global.onnx", "cct_xs_v2_global_plate_config.yaml"),
)
OCR_BATCH = 32
JPEG_QUALITY = 90

Image = MatLike  # a BGR uint8 picture, as cv2 decodes it


class ModelError(Exception):
    """A model file is missing or cannot be loaded; the message names it and the setting."""


@dataclass(frozen=True)
class PlateReading:
    plate: str  # normalized, look-alikes resolved by the region's formats
    raw_text: str  # as the OCR read it, pad characters removed
    confidence: float  # mean of the OCR's per-character probabilities
    char_confidences: tuple[float, ...]  # one per character of `raw_text`
    box: Box | None  # the plate in the frame; None for a crop read as is
    crop_jpeg: bytes  # the plate crop, the evidence


def _model_file(models_dir: Path, name: str) -> Path:
    path = models_dir / name
    if not path.is_file():
        raise ModelError(
            f"model file {path} is missing; put it there or point C4HUB_MODELS_DIR "
            "at the directory that holds it"
        )
    return path


def _load_error(path: Path, exc: Exception) -> ModelError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelError(
        f"model file {path} cannot be loaded ({reason[:200]}); replace it or point "
        "C4HUB_MODELS_DIR at a directory with a good copy"
    )


class PlateReader:
    """Loads the detector and the OCR models once; `read_frame` and `read_crops` use them."""

    def __init__(
        self,
        models_dir: Path,
        region: str | None = None,
        min_detection: float = 0.25,
        ocr_models: Sequence[tuple[str, str]] = OCR_MODELS,
    ) -> None:
        self.region = region
        detector_path = _model_file(models_dir, DETECTOR_FILE)
        self._ocr = [_load_ocr(models_dir, onnx, yaml) for onnx, yaml in ocr_models]
        try:
            self._detector: Any = create_detector(
                detector_path,
                backend="yolo_v9",
                class_labels=["License Plate"],
                conf_thresh=min_detection,
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise _load_error(detector_path, exc) from exc
        alphabets = {ocr.config.alphabet for ocr in self._ocr}
        if len(alphabets) != 1:
            raise ModelError(
                "the OCR models read different alphabets; use the pair listed in MANIFEST.md"
            )
        self._alphabet = alphabets.pop()
        self._pad = self._ocr[0].config.pad_char
        self._slots = max(ocr.config.max_plate_slots for ocr in self._ocr)

    def read_crops(self, crops: Sequence[Image]) -> list[PlateReading | None]:
        """OCR plate crops (BGR) in batches; None where nothing legible was read."""
        out: list[PlateReading | None] = []
        for start in range(0, len(crops), OCR_BATCH):
            chunk = crops[start : start + OCR_BATCH]
            rgb = [cv2.cvtColor(c, cv2.COLOR_BGR2RGB) for c in chunk]
            probs = np.mean([self._probabilities(ocr, rgb) for ocr in self._ocr], axis=0)
            for crop, plate_probs in zip(chunk, probs, strict=True):
                out.append(self._reading(crop, plate_probs))
        return out

    def _probabilities(self, ocr: "_Ocr", rgb: list[Image]) -> npt.NDArray[np.float32]:
        """(crops, slots, alphabet) probabilities, padded to the longest model's slots."""
        cfg = ocr.config
        batch = np.stack(
            [
                resize_image(
                    image,
                    cfg.img_height,
                    cfg.img_width,
                    image_color_mode=cfg.image_color_mode,
                    keep_aspect_ratio=cfg.keep_aspect_ratio,
                    interpolation_method=cfg.interpolation,
                    padding_color=cfg.padding_color,
                )
                for image in rgb
            ]
        ).astype(np.uint8)
        raw = ocr.session.run([ocr.output], {"input": batch})[0]
        probs = np.asarray(raw, dtype=np.float32).reshape(len(rgb), cfg.max_plate_slots, -1)
        padded = np.zeros((len(rgb), self._slots, probs.shape[2]), dtype=np.float32)
        padded[:, :, cfg.pad_idx] = 1.0  # slots a shorter model lacks are padding
        padded[:, : cfg.max_plate_slots] = probs
        return padded

    def read_crop(self, crop: Image) -> PlateReading | None:
        return self.read_crops([crop])[0]

    def detect(self, frame: Image) -> list[tuple[Box, float, Image]]:
        """Plates in a BGR frame: (box, detector confidence, crop), best first."""
        height, width = frame.shape[:2]
        found = []
        for result in self._detector.predict(frame):
            b = result.bounding_box
            x1, y1 = max(0, int(b.x1)), max(0, int(b.y1))
            x2, y2 = min(width, int(b.x2)), min(height, int(b.y2))
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            box = Box(x=x1 / width, y=y1 / height, w=(x2 - x1) / width, h=(y2 - y1) / height)
            found.append((box, float(result.confidence), frame[y1:y2, x1:x2]))
        found.sort(key=lambda item: -item[1])
        return found

    def read_frame(self, frame: Image) -> list[PlateReading]:
        """Detect then read every plate in a BGR frame."""
        detections = self.detect(frame)
        readings = self.read_crops([crop for _, _, crop in detections])
        return [
            replace(reading, box=box)
            for (box, _, _), reading in zip(detections, readings, strict=True)
            if reading is not None
        ]

    def _reading(self, crop: Image, probs: npt.NDArray[np.float32]) -> PlateReading | None:
        best = probs.argmax(axis=1)
        kept = [
            (self._alphabet[int(k)], float(probs[i, k]))
            for i, k in enumerate(best)
            if self._alphabet[int(k)] != self._pad
        ]
        raw = "".join(c for c, _ in kept)
        plate = resolve(normalize(raw), self.region)
        if not plate:
            return None
        char_conf = tuple(p for _, p in kept)
        ok, jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        return PlateReading(
            plate=plate,
            raw_text=raw,
            confidence=sum(char_conf) / len(char_conf),
            char_confidences=char_conf,
            box=None,
            crop_jpeg=jpeg.tobytes() if ok else b"",
        )


@dataclass(frozen=True)
class _Ocr:
    session: Any  # onnxruntime.InferenceSession (untyped)
    config: Any  # fast_plate_ocr PlateConfig
    output: str


def _load_ocr(models_dir: Path, onnx_name: str, yaml_name: str) -> _Ocr:
    onnx_path = _model_file(models_dir, onnx_name)
    yaml_path = _model_file(models_dir, yaml_name)
    try:
        config = PlateConfig.from_yaml(yaml_path)
        if config.image_color_mode != "rgb":
            raise ValueError(f"image_color_mode {config.image_color_mode}, the reader feeds rgb")
    except Exception as exc:  # yaml and dataclass errors: a broken or foreign config
        raise _load_error(yaml_path, exc) from exc
    try:
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise _load_error(onnx_path, exc) from exc
    names = [o.name for o in session.get_outputs()]
    return _Ocr(session, config, "plate" if "plate" in names else names[0])
