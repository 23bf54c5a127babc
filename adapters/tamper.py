"""Tamper checks on decoded frames: covered or dark, defocused, moved or obstructed, frozen.

Pure (numpy only, no I/O). Frames are grayscale 2-D arrays of luminance 0..255 (any numeric
dtype), as `RtspAdapter.frames` returns them. Defocus and scene checks compare a camera with
itself: its own sharpness baseline and its own reference frame, both taken when an operator
confirmed the view was right, because a fixed threshold cannot suit a foggy motorway and a
lit shop alike.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.generic]
_Float = npt.NDArray[np.float64]

# Covered or dark: a hand, a bag, paint or lights off leave a dim, nearly uniform image. Both
# conditions are required, so a dark but detailed night scene (street lights, lit windows) is
# not flagged. Luminance is 0..255: the shared traffic scene averages 113 with a spread of 12
# (an overcast road is not contrasty); a covered lens measures under 5 and 1.
DARK_MEAN_MAX: Final = 25.0
DARK_STD_MAX: Final = 6.0

# Defocused: the variance of the Laplacian (fine detail) falls below this fraction of the
# camera's baseline. A strong blur removes most fine detail (a Gaussian of sigma 4 px at
# 384x216 leaves 6 % of it); the ebb and flow of detail with traffic stays within +-40 %.
DEFOCUS_RATIO_MIN: Final = 0.3

# Moved or obstructed: normalized cross-correlation of the frame with the reference, both
# reduced to SCENE_GRID (rows, columns) block means first, so encoder noise, passing vehicles,
# blur and global brightness changes barely count and only the layout of the scene does. The
# same view measures above 0.99 (blurred: 0.99); a view moved by a quarter of the frame, about 0.5.
SCENE_GRID: Final = (18, 32)
SCENE_SIMILARITY_MIN: Final = 0.8

# Frozen: the median, over consecutive pairs of a window, of the mean absolute difference in
# luminance. A stuck camera repeats its picture, which decodes to exact copies (0.0) except
# at keyframes; a live scene measures 0.1-0.4 even when calm (sensor noise, light, traffic),
# and a blurred one 0.05-0.2. The median ignores the keyframes' jolt of compression noise. A
# truly still scene without sensor noise cannot be told from a frozen one by pixels alone.
FROZEN_CHANGE_MAX: Final = 0.02


@dataclass(frozen=True, slots=True)
class TamperVerdict:
    """Which checks fired, with the values measured.

    A dark view masks the other checks: it has no detail, no scene and no motion left to
    judge, so they are reported as not fired, and their measures as None.
    """

    dark: bool
    defocused: bool
    scene_changed: bool
    frozen: bool
    mean_luminance: float
    luminance_std: float
    sharpness: float | None = None
    sharpness_ratio: float | None = None  # sharpness / baseline
    scene_similarity: float | None = None
    frame_change: float | None = None  # median mean |difference| of consecutive frames

    @property
    def fired(self) -> tuple[str, ...]:
        """Names of the checks that fired, in a fixed order; empty when the view is sound."""
        flags = {
            "dark": self.dark,
            "defocused": self.defocused,
            "scene_changed": self.scene_changed,
            "frozen": self.frozen,
        }
        return tuple(name for name, on in flags.items() if on)


def _gray(frame: Frame) -> _Float:
    array = np.asarray(frame, dtype=np.float64)
    if array.ndim != 2 or min(array.shape) < 3:
        raise ValueError("a frame must be a 2-D grayscale array of at least 3x3 pixels")
    return array


def luminance(frame: Frame) -> tuple[float, float]:
    """(mean, standard deviation) of the frame's luminance."""
    gray = _gray(frame)
    return float(gray.mean()), float(gray.std())


def is_dark(frame: Frame) -> bool:
    """Covered or dark: dim and nearly uniform."""
    mean, std = luminance(frame)
    return mean < DARK_MEAN_MAX and std < DARK_STD_MAX


def sharpness(frame: Frame) -> float:
    """Variance of the 4-neighbour Laplacian over the frame's interior."""
    g = _gray(frame)
    laplacian = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    return float(laplacian.var())


def is_defocused(frame: Frame, baseline: float) -> bool:
    """Sharpness below DEFOCUS_RATIO_MIN of the camera's baseline sharpness."""
    if baseline <= 0:
        raise ValueError("the sharpness baseline must be positive")
    return sharpness(frame) < DEFOCUS_RATIO_MIN * baseline


def _blocks(gray: _Float, grid: tuple[int, int]) -> _Float:
    """Mean of each cell of a rows x columns grid (the frame cropped to a multiple of it)."""
    rows, cols = grid
    h, w = gray.shape
    if h < rows or w < cols:
        raise ValueError(f"a frame must be at least {cols}x{rows} pixels for the scene check")
    cropped = gray[: h - h % rows, : w - w % cols]
    means: _Float = cropped.reshape(rows, cropped.shape[0] // rows, cols, -1).mean(axis=(1, 3))
    return means


def scene_similarity(frame: Frame, reference: Frame) -> float:
    """Normalized cross-correlation (-1..1) of the two frames' block means.

    Frames of different sizes compare fine: both are reduced to the same grid. A uniform
    frame (no structure at all) has similarity 0 to anything.
    """
    a = _blocks(_gray(frame), SCENE_GRID)
    b = _blocks(_gray(reference), SCENE_GRID)
    a -= a.mean()
    b -= b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / norm) if norm > 1e-9 else 0.0


def scene_signature(frame: Frame) -> _Float:
    """The frame reduced to SCENE_GRID block means: all the scene check keeps of a reference.

    A signature compares with `scene_similarity` like the frame it came from (a grid-sized
    array is its own block means), and is a few kilobytes where the frame is hundreds.
    """
    return _blocks(_gray(frame), SCENE_GRID)


def is_scene_changed(frame: Frame, reference: Frame) -> bool:
    """Moved or obstructed: the scene no longer matches the reference."""
    return scene_similarity(frame, reference) < SCENE_SIMILARITY_MIN


def frame_change(frames: Sequence[Frame]) -> float:
    """Median over consecutive pairs of the mean absolute luminance difference."""
    if len(frames) < 2:
        raise ValueError("the frozen check needs at least two frames")
    grays = [_gray(frame) for frame in frames]
    if any(gray.shape != grays[0].shape for gray in grays):
        raise ValueError("the frames of a window must all have the same size")
    return float(np.median([np.abs(b - a).mean() for a, b in pairwise(grays)]))


def is_frozen(frames: Sequence[Frame]) -> bool:
    """Consecutive frames identical within compression noise across the window."""
    return frame_change(frames) <= FROZEN_CHANGE_MAX


def assess(
    frames: Sequence[Frame],
    *,
    baseline_sharpness: float | None = None,
    reference: Frame | None = None,
) -> TamperVerdict:
    """Run every check that its inputs allow on a window of consecutive frames.

    The last frame is judged for darkness, sharpness and scene; the whole window for frozen.
    Without a baseline or a reference, those checks are skipped (not fired, measure None);
    with a single frame, so is the frozen check.
    """
    if not frames:
        raise ValueError("assess needs at least one frame")
    last = frames[-1]
    mean, std = luminance(last)
    if mean < DARK_MEAN_MAX and std < DARK_STD_MAX:
        return TamperVerdict(
            dark=True,
            defocused=False,
            scene_changed=False,
            frozen=False,
            mean_luminance=mean,
            luminance_std=std,
        )
    sharp = sharpness(last)
    ratio = None
    if baseline_sharpness is not None:
        if baseline_sharpness <= 0:
            raise ValueError("the sharpness baseline must be positive")
        ratio = sharp / baseline_sharpness
    similarity = scene_similarity(last, reference) if reference is not None else None
    change = frame_change(frames) if len(frames) > 1 else None
    return TamperVerdict(
        dark=False,
        defocused=ratio is not None and ratio < DEFOCUS_RATIO_MIN,
        scene_changed=similarity is not None and similarity < SCENE_SIMILARITY_MIN,
        frozen=change is not None and change <= FROZEN_CHANGE_MAX,
        mean_luminance=mean,
        luminance_std=std,
        sharpness=sharp,
        sharpness_ratio=ratio,
        scene_similarity=similarity,
        frame_change=change,
    )
