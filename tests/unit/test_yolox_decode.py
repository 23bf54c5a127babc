"""YOLOX pre- and post-processing on synthetic inputs and outputs (no model)."""

import numpy as np
import pytest

from hub.analytics.detection.base import check_frame, to_detection
from hub.analytics.detection.onnx import (
    PAD_VALUE,
    batched_nms,
    decode,
    grids,
    letterbox,
    nms,
)
from schemas.analytics import ObjectClass


def test_letterbox_scales_into_the_top_left_and_pads_grey() -> None:
    frame = np.full((100, 200, 3), 7, dtype=np.uint8)
    blob, ratio = letterbox(frame, 64)
    assert blob.shape == (1, 3, 64, 64) and blob.dtype == np.float32
    assert ratio == pytest.approx(0.32)
    assert np.all(blob[0, :, :32, :] == 7)  # 100 x 0.32 = 32 rows of picture
    assert np.all(blob[0, :, 32:, :] == PAD_VALUE)


def test_letterbox_keeps_bgr_order_and_0_255_values() -> None:
    frame = np.zeros((64, 64, 3), dtype=np.uint8)
    frame[..., 0] = 255  # blue, in BGR
    blob, _ = letterbox(frame, 64)
    assert blob[0, 0].min() == 255 and blob[0, 1].max() == 0 and blob[0, 2].max() == 0


def test_grids_follow_the_model_order_of_strides_and_cells() -> None:
    cells, strides = grids(64)
    assert len(cells) == 8 * 8 + 4 * 4 + 2 * 2
    assert cells[1].tolist() == [1, 0] and cells[8].tolist() == [0, 1]
    assert strides[0, 0] == 8 and strides[64, 0] == 16 and strides[-1, 0] == 32
    assert len(grids(416)[0]) == 3549  # yolox_nano's output rows


def test_decode_turns_grid_offsets_into_pixel_boxes_and_scores() -> None:
    cells, strides = grids(64)
    rows = np.zeros((len(cells), 85), dtype=np.float32)
    # Stride-16 level, cell (x=2, y=1): row 64 + 1 * 4 + 2.
    row = 64 + 4 + 2
    rows[row, :4] = [0.5, 0.25, np.log(2.0), 0.0]
    rows[row, 4] = 0.8  # objectness
    rows[row, 5 + 2] = 0.9  # car
    rows[row, 5 + 0] = 0.1
    boxes, scores, class_ids = decode(rows, cells, strides)
    # centre ((2.5) * 16, (1.25) * 16) = (40, 20); size (32, 16)
    assert boxes[row].tolist() == pytest.approx([24, 12, 56, 28])
    assert scores[row] == pytest.approx(0.72)
    assert class_ids[row] == 2
    assert scores[0] == 0


def test_nms_drops_overlapping_boxes_keeping_the_best() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=np.float32)
    scores = np.array([0.5, 0.9, 0.3], dtype=np.float32)
    assert nms(boxes, scores, 0.45).tolist() == [1, 2]


def test_batched_nms_keeps_overlapping_boxes_of_different_classes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11]], dtype=np.float32)
    scores = np.array([0.5, 0.9], dtype=np.float32)
    assert batched_nms(boxes, scores, np.array([2, 0]), 0.45).tolist() == [1, 0]
    assert batched_nms(boxes, scores, np.array([2, 2]), 0.45).tolist() == [1]
    empty = np.zeros((0, 4), dtype=np.float32)
    assert (
        batched_nms(empty, np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64), 0.45).size
        == 0
    )


def test_boxes_are_clipped_to_the_frame_and_normalized() -> None:
    found = to_detection(ObjectClass.CAR, 0.7, (-10.0, 50.0, 100.0, 250.0), 200, 200)
    assert found is not None
    assert (found.box.x, found.box.y, found.box.w, found.box.h) == (0, 0.25, 0.5, 0.75)
    assert to_detection(ObjectClass.CAR, 0.7, (210.0, 0.0, 250.0, 10.0), 200, 200) is None


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((100, 100), dtype=np.uint8), "H x W x 3"),
        (np.zeros((100, 100, 4), dtype=np.uint8), "H x W x 3"),
        (np.zeros((100, 100, 3), dtype=np.float32), "uint8"),
        (np.zeros((8, 100, 3), dtype=np.uint8), "out of range"),
        ([[0, 0, 0]], "numpy array"),
    ],
)
def test_frames_a_detector_cannot_read_are_refused(frame: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_frame(frame)
