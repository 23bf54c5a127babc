"""YOLOX on onnxruntime (CPU): letterbox, grid decoding and NMS written here in numpy.

The model (yolox_nano.onnx, see ../shared/models/MANIFEST.md) takes 1x3xSxS BGR 0-255 without
normalisation and answers 1xNx85 rows: grid offsets (x, y, log w, log h) at strides 8/16/32,
objectness, then 80 COCO class scores.
"""

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from hub.analytics.detection.base import (
    COCO_IDS,
    Frame,
    Prepared,
    check_frame,
    model_error,
    to_detection,
)
from schemas.analytics import AnalyticsSettings, Detection

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

STRIDES = (8, 16, 32)
COCO_CLASSES = 80  # class scores per row, after the 4 box values and objectness
PAD_VALUE = 114  # YOLOX's own letterbox grey
NMS_IOU = 0.45


def fitted(height: int, width: int, size: int) -> tuple[float, int, int]:
    """The scale that fits a picture into the square, and the scaled picture's rows, columns."""
    ratio: float = min(size / height, size / width)
    return ratio, max(1, round(height * ratio)), max(1, round(width * ratio))


def draw(blob: FloatArray, frame: Frame, rows: int, columns: int) -> None:
    """The frame scaled to rows x columns, written into the blob's top-left as float planes."""
    resized = cv2.resize(frame, (columns, rows), interpolation=cv2.INTER_LINEAR)
    # Contiguous planes convert to float far faster than strided HWC-to-CHW copies.
    for channel, plane in enumerate(cv2.split(resized)):
        blob[0, channel, :rows, :columns] = plane


class LetterboxBuffer:
    """The model's 1x3xSxS input, kept from frame to frame: a frame is scaled to fit the square
    (in its top-left corner, as YOLOX's own preprocessing does, the rest grey) and written
    straight into it, channel by channel, as float. Frames of one stream keep their size, so
    the grey border is written once, not per frame. Not for sharing between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.blob: FloatArray = np.full((1, 3, size, size), PAD_VALUE, dtype=np.float32)
        self._picture = (size, size)  # rows, columns of the picture now in the blob

    def load(self, frame: Frame) -> float:
        """Writes the frame (BGR, 0-255, no normalisation) into `blob`; the scale applied."""
        height, width = frame.shape[:2]
        ratio, rows, columns = fitted(height, width, self.size)
        if (rows, columns) != self._picture:  # a smaller picture would leave old pixels
            self.blob.fill(PAD_VALUE)
            self._picture = (rows, columns)
        draw(self.blob, frame, rows, columns)
        return ratio


def letterbox(frame: Frame, size: int) -> tuple[FloatArray, float]:
    """The frame letterboxed into a new 1x3xSxS float blob, and the scale applied."""
    height, width = frame.shape[:2]
    ratio, rows, columns = fitted(height, width, size)
    blob: FloatArray = np.empty((1, 3, size, size), dtype=np.float32)
    # Only the border is filled: the picture covers the rest.
    blob[0, :, rows:, :] = PAD_VALUE
    blob[0, :, :rows, columns:] = PAD_VALUE
    draw(blob, frame, rows, columns)
    return blob, ratio


def grids(size: int) -> tuple[FloatArray, FloatArray]:
    """Per output row: the (x, y) cell it belongs to and its stride, in the model's order
    (stride 8 cells first, each level row by row)."""
    cells, strides = [], []
    for stride in STRIDES:
        side = size // stride
        xs, ys = np.meshgrid(np.arange(side), np.arange(side))
        cells.append(np.stack((xs, ys), axis=2).reshape(-1, 2))
        strides.append(np.full((side * side, 1), stride))
    return (
        np.concatenate(cells).astype(np.float32),
        np.concatenate(strides).astype(np.float32),
    )


def decode(
    rows: FloatArray, cells: FloatArray, strides: FloatArray
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Raw rows (N x 85) to boxes (x1, y1, x2, y2 in input pixels), best-class scores
    (objectness x class score) and class ids."""
    centres = (rows[:, 0:2] + cells) * strides
    halves = np.exp(rows[:, 2:4]) * strides / 2
    boxes = np.concatenate((centres - halves, centres + halves), axis=1)
    class_scores = rows[:, 5:]
    class_ids = class_scores.argmax(axis=1)
    scores = rows[:, 4] * class_scores.max(axis=1)  # the score at argmax, without indexing
    # float32 rows give float32 results: the casts only copy when given other input.
    return (
        boxes.astype(np.float32, copy=False),
        scores.astype(np.float32, copy=False),
        class_ids.astype(np.int64, copy=False),
    )


def nms(boxes: FloatArray, scores: FloatArray, iou_threshold: float) -> IntArray:
    """Greedy non-maximum suppression: indices of the boxes kept, best score first."""
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        inter_w = np.maximum(0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]))
        inter_h = np.maximum(0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]))
        inter = inter_w * inter_h
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def batched_nms(
    boxes: FloatArray, scores: FloatArray, class_ids: IntArray, iou_threshold: float
) -> IntArray:
    """NMS within each class: boxes of different classes never suppress each other (shifting
    each class to its own region of the plane keeps it one pass)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    offset = float(boxes.max()) + 1.0
    shifted = boxes + (class_ids[:, np.newaxis] * offset).astype(np.float32)
    return nms(shifted, scores, iou_threshold)


class OnnxYoloxDetector:
    """YOLOX (yolox_nano.onnx by default) on onnxruntime's CPU provider."""

    def __init__(self, path: Path, settings: AnalyticsSettings) -> None:
        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise model_error(path, f"is not an ONNX model onnxruntime can load ({exc})") from exc
        model_input = self.session.get_inputs()[0]
        self.input_name: str = model_input.name
        self.size = self._input_size(path, model_input.shape, settings.input_size)
        self.cells, self.strides = grids(self.size)
        self.confidence = settings.confidence
        self.wanted = {cid: cls for cid, cls in COCO_IDS.items() if cls in settings.classes}
        # Per COCO class id, whether the settings ask for it: one lookup per row at decode.
        self.wanted_ids = np.zeros(COCO_CLASSES, dtype=bool)
        self.wanted_ids[list(self.wanted)] = True
        self.input = LetterboxBuffer(self.size)
        self._check_output(path)

    @staticmethod
    def _input_size(path: Path, shape: list[int | str | None], wanted: int) -> int:
        """The model's fixed square input size, or the setting's if the model takes any."""
        if len(shape) != 4 or shape[1] != 3:
            raise model_error(path, f"takes input {shape}, not a 1x3xSxS image")
        height, width = shape[2], shape[3]
        if isinstance(height, int) and isinstance(width, int):
            if height != width or height != wanted:
                raise model_error(
                    path,
                    f"takes {width}x{height} input but the camera's analytics input_size is "
                    f"{wanted}",
                    f"set input_size to {height} or use a model exported for {wanted}",
                )
            return height
        return wanted

    def _check_output(self, path: Path) -> None:
        """One run on a blank input: a model that does not answer YOLOX rows fails at load."""
        blank = np.full((1, 3, self.size, self.size), PAD_VALUE, dtype=np.float32)
        try:
            rows = self.infer(blank)
        except Exception as exc:  # onnxruntime's untyped runtime errors
            raise model_error(path, f"failed on a blank {self.size} input ({exc})") from exc
        if rows.shape != (len(self.cells), 85):
            raise model_error(
                path, f"answers shape {rows.shape}, not YOLOX rows ({len(self.cells)}, 85)"
            )

    def infer(self, blob: FloatArray) -> FloatArray:
        """The bare model run: one 1x3xSxS blob to its N x 85 raw rows."""
        outputs = self.session.run(None, {self.input_name: blob})
        return np.asarray(outputs[0], dtype=np.float32).reshape(-1, 85)

    def detect(self, frame: Frame) -> list[Detection]:
        """Objects in one H x W x 3 uint8 BGR frame. One frame at a time: the frame goes
        through the detector's one reused input (see `prepare` for frames in flight)."""
        frame = check_frame(frame)
        ratio = self.input.load(frame)
        height, width = frame.shape[:2]
        prepared = Prepared(self.input.blob, ratio, width, height)
        return self.read(self.infer(prepared.blob), prepared)

    def prepare(self, frame: Frame) -> Prepared:
        """The frame checked and letterboxed into a blob of its own, for `infer` then `read`.
        Touches nothing shared: frames can be prepared in one thread while the model runs on
        earlier ones in another (onnxruntime releases the GIL while it runs)."""
        frame = check_frame(frame)
        blob, ratio = letterbox(frame, self.size)
        height, width = frame.shape[:2]
        return Prepared(blob, ratio, width, height)

    def read(self, rows: FloatArray, prepared: Prepared) -> list[Detection]:
        """The detections in the model's raw rows for a prepared frame."""
        # A row's score is objectness x class score, so rows whose objectness is already below
        # the threshold cannot pass: dropping them first leaves a handful of rows to decode.
        hopeful = np.flatnonzero(rows[:, 4] >= self.confidence)
        if hopeful.size == 0:
            return []
        boxes, scores, class_ids = decode(rows[hopeful], self.cells[hopeful], self.strides[hopeful])
        keep = (scores >= self.confidence) & self.wanted_ids[class_ids]
        boxes, scores, class_ids = boxes[keep] / prepared.ratio, scores[keep], class_ids[keep]
        kept = batched_nms(boxes, scores, class_ids, NMS_IOU)
        detections = []
        # Plain Python numbers, converted once for all kept boxes, not element by element.
        for (x1, y1, x2, y2), score, class_id in zip(
            boxes[kept].tolist(), scores[kept].tolist(), class_ids[kept].tolist(), strict=True
        ):
            found = to_detection(
                self.wanted[class_id], score, (x1, y1, x2, y2), prepared.width, prepared.height
            )
            if found is not None:
                detections.append(found)
        return detections
