"""Object detectors: YOLOX on onnxruntime (the default, CPU) and anything the optional
`ultralytics` package runs. `load_detector` picks one from a camera's analytics settings."""

from pathlib import Path

from hub.analytics.detection.base import (
    MODELS_DIR_SETTING,
    Detector,
    Frame,
    ModelError,
    check_frame,
    model_error,
)
from schemas.analytics import AnalyticsSettings, DetectorBackend

DEFAULT_MODELS = {
    DetectorBackend.ONNX: "yolox_nano.onnx",
    DetectorBackend.ULTRALYTICS: "yolo11n_int8.tflite",
}

__all__ = [
    "DEFAULT_MODELS",
    "MODELS_DIR_SETTING",
    "Detector",
    "Frame",
    "ModelError",
    "check_frame",
    "load_detector",
]


def load_detector(
    settings: AnalyticsSettings, models_dir: Path, data_dir: Path | None = None
) -> Detector:
    """The detector the settings name, loaded from `models_dir` (never downloaded). ModelError
    names the file and C4HUB_MODELS_DIR when it is missing or not a model the backend runs.
    `data_dir` holds ultralytics' settings (the node's data_dir by default)."""
    path = models_dir / (settings.model or DEFAULT_MODELS[settings.backend])
    if not path.is_file():
        raise model_error(path, f"does not exist (the {settings.backend} backend's model)")
    if settings.backend is DetectorBackend.ULTRALYTICS:
        from hub.analytics.detection.ultralytics import UltralyticsDetector

        if data_dir is None:
            from hub.settings import get_settings

            data_dir = get_settings().data_dir
        return UltralyticsDetector(path, settings, data_dir)
    from hub.analytics.detection.onnx import OnnxYoloxDetector

    return OnnxYoloxDetector(path, settings)
