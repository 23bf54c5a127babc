"""The tamper checks on real RTSP streams: each tampered copy of the shared video flags exactly its
own check against the clean stream's baseline and reference, and the clean stream flags none.
"""

import asyncio
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from adapters import tamper
from adapters.base import Target
from adapters.rtsp import RtspAdapter
from tests.fixtures.rtsp_server import rtsp_base_url

__all__ = ["rtsp_base_url"]  # the fixture, used by name below

# 25 frames are 2 s of stream. The window judged starts after the first keyframe interval
# (12 frames): right after a stream starts, the encoder still sharpens a still picture frame by
# frame, which a frozen check on that first second would take for motion.
FRAMES = 25
WINDOW_START = 12


@dataclass(frozen=True)
class Baseline:
    sharpness: float
    reference: npt.NDArray[np.uint8]


def window(url: str) -> list[npt.NDArray[np.uint8]]:
    target = Target.from_uri(url, timeout_s=10)
    frames = asyncio.run(RtspAdapter().frames(target, FRAMES, timeout=30))
    return frames[WINDOW_START:]


@pytest.fixture(scope="module")
def baseline(rtsp_base_url: str) -> Baseline:
    """What an operator records when the view is right: from a first take of the clean stream."""
    frames = window(f"{rtsp_base_url}/clean")
    return Baseline(
        sharpness=float(np.median([tamper.sharpness(f) for f in frames])), reference=frames[0]
    )


@pytest.mark.parametrize(
    ("mount", "expected"),
    [
        ("clean", ()),
        ("black", ("dark",)),
        ("blurred", ("defocused",)),
        ("shifted", ("scene_changed",)),
        ("frozen", ("frozen",)),
    ],
)
def test_each_stream_flags_exactly_its_own_check(
    rtsp_base_url: str, baseline: Baseline, mount: str, expected: tuple[str, ...]
) -> None:
    verdict = tamper.assess(
        window(f"{rtsp_base_url}/{mount}"),
        baseline_sharpness=baseline.sharpness,
        reference=baseline.reference,
    )
    assert verdict.fired == expected, verdict
