"""The vectorised YOLOX decoding against a row-by-row reading of the same output format."""

import math

import numpy as np
import pytest

from hub.analytics.detection.onnx import decode, grids


def test_decode_matches_a_row_by_row_reading() -> None:
    cells, strides = grids(64)
    rows = np.random.default_rng(4).uniform(-2, 2, (len(cells), 85)).astype(np.float32)
    rows[:, 4:] = np.abs(rows[:, 4:]) / 2  # objectness and class scores are in 0..1
    boxes, scores, class_ids = decode(rows, cells, strides)
    assert boxes.dtype == np.float32 and scores.dtype == np.float32
    assert class_ids.dtype == np.int64
    for i, row in enumerate(rows.tolist()):
        (cx, cy), stride = cells[i].tolist(), float(strides[i, 0])
        x, y = (row[0] + cx) * stride, (row[1] + cy) * stride
        w, h = math.exp(row[2]) * stride, math.exp(row[3]) * stride
        best = max(range(80), key=lambda c: row[5 + c])
        assert boxes[i].tolist() == pytest.approx([x - w / 2, y - h / 2, x + w / 2, y + h / 2])
        assert class_ids[i] == best
        assert scores[i] == pytest.approx(row[4] * row[5 + best])


def test_decode_of_no_rows_is_empty() -> None:
    cells, strides = grids(64)
    boxes, scores, class_ids = decode(np.zeros((0, 85), np.float32), cells[:0], strides[:0])
    assert boxes.shape == (0, 4) and scores.shape == (0,) and class_ids.shape == (0,)
