"""What every detector backend shares: the protocol, the errors, frame checks, box mapping."""

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from schemas.analytics import Box, Detection, ObjectClass

Frame = npt.NDArray[np.uint8]

# Where a model file is looked for; every model error names it so the fix is obvious.
MODELS_DIR_SETTING = "C4HUB_MODELS_DIR"
MIN_FRAME_SIDE = 16
MAX_FRAME_SIDE = 8192

# COCO class ids (as yolox_nano.onnx numbers them) of the classes the hub reports.
COCO_IDS: dict[int, ObjectClass] = {
    0: ObjectClass.PERSON,
    1: ObjectClass.BICYCLE,
    2: ObjectClass.CAR,
    3: ObjectClass.MOTORCYCLE,
    5: ObjectClass.BUS,
    7: ObjectClass.TRUCK,
}


@dataclass(frozen=True)
class Prepared:
    """A frame made ready for a model: its input blob, the scale from frame to blob, and the
    frame's size, which is what reading the model's answer needs."""

    blob: npt.NDArray[np.float32]
    ratio: float
    width: int
    height: int


class ModelError(Exception):
    """A model file is missing, unreadable or not a detector the backend can run."""


class Detector(Protocol):
    def detect(self, frame: Frame) -> list[Detection]:
        """Objects in one frame: `frame` is H x W x 3, dtype uint8, BGR channel order (as
        OpenCV and PyAV's `to_ndarray(format="bgr24")` give it). Boxes are fractions of
        the frame; only the classes and confidences the settings ask for are returned."""
        ...


def model_error(path: Path, problem: str, fix: str | None = None) -> ModelError:
    """A one-line error naming the file, what is wrong with it and the setting to change."""
    fix = fix or (
        f"put a good copy there or point {MODELS_DIR_SETTING} at the directory that holds it"
    )
    return ModelError(f"model file {path} {problem}; {fix}")


def check_frame(frame: object) -> Frame:
    """The frame itself if it is one a detector can read; ValueError saying what is wrong."""
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"a frame must be a numpy array, not {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"a frame must be uint8 (BGR 0-255), not {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"a frame must be H x W x 3 (BGR), not shape {frame.shape}")
    height, width = frame.shape[:2]
    if not (min(height, width) >= MIN_FRAME_SIDE and max(height, width) <= MAX_FRAME_SIDE):
        raise ValueError(
            f"a frame of {width}x{height} pixels is out of range: each side must be "
            f"{MIN_FRAME_SIDE}..{MAX_FRAME_SIDE}"
        )
    return frame


def to_detection(
    object_class: ObjectClass,
    confidence: float,
    xyxy: tuple[float, float, float, float],
    width: int,
    height: int,
) -> Detection | None:
    """A detection with its pixel box clipped to the frame and normalized; None if the box
    has no area left inside the frame."""
    x1, y1, x2, y2 = xyxy
    x1, x2 = max(0.0, min(x1, width)), max(0.0, min(x2, width))
    y1, y2 = max(0.0, min(y1, height)), max(0.0, min(y2, height))
    if x2 <= x1 or y2 <= y1:
        return None
    box = Box(
        x=float(x1 / width),
        y=float(y1 / height),
        w=float((x2 - x1) / width),
        h=float((y2 - y1) / height),
    )
    return Detection(object_class=object_class, confidence=min(1.0, float(confidence)), box=box)
