"""The detector's reused input buffer against the plain definition of YOLOX's letterbox."""

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from hub.analytics.detection.onnx import PAD_VALUE, LetterboxBuffer, letterbox


def reference(frame: npt.NDArray[np.uint8], size: int) -> npt.NDArray[np.float32]:
    """Scale to fit, top-left, grey elsewhere; BGR planes as float, 0-255."""
    height, width = frame.shape[:2]
    ratio = min(size / height, size / width)
    new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
    square = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    square[:new_h, :new_w] = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return square.transpose(2, 0, 1)[np.newaxis].astype(np.float32)


def noise(height: int, width: int, seed: int) -> npt.NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(("height", "width"), [(432, 768), (768, 432), (100, 100), (20, 900)])
def test_the_buffer_holds_exactly_the_letterboxed_frame(height: int, width: int) -> None:
    frame = noise(height, width, seed=height + width)
    buffer = LetterboxBuffer(96)
    ratio = buffer.load(frame)
    assert ratio == pytest.approx(min(96 / height, 96 / width))
    assert buffer.blob.dtype == np.float32 and buffer.blob.shape == (1, 3, 96, 96)
    assert np.array_equal(buffer.blob, reference(frame, 96))


def test_a_reused_buffer_never_shows_pixels_of_an_earlier_frame() -> None:
    buffer = LetterboxBuffer(64)
    # Wide, then tall (smaller picture area in the other direction), then wide again.
    for step, (height, width) in enumerate([(40, 80), (80, 40), (40, 80), (40, 80)]):
        frame = noise(height, width, seed=step)
        buffer.load(frame)
        assert np.array_equal(buffer.blob, reference(frame, 64)), step


def test_letterbox_gives_a_new_blob_each_call() -> None:
    first, _ = letterbox(noise(50, 60, seed=1), 32)
    kept = first.copy()
    second, _ = letterbox(noise(60, 50, seed=2), 32)
    assert second is not first and np.array_equal(first, kept)
