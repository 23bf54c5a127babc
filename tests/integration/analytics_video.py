"""The shared videos, decoded at an analysis rate, and the real pipeline built around them: what
the analytics tests on real footage have in common."""

import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import av

from adapters.base import ColorFrame
from hub.analytics.colour import dominant_colour
from hub.analytics.detection import load_detector
from hub.analytics.pipeline import Evidence, Pipeline
from hub.analytics.rules import RuleEngine
from hub.analytics.tracking import Tracker
from hub.settings import get_settings
from schemas.analytics import AnalyticsSettings
from tests.support import DATA

# Six people walk in one at a time, stand at a table, then walk off to the right.
PEOPLE = DATA / "video" / "one-by-one-person-detection.mp4"
# A car park filmed from above; cars drive through, none parks.
CARS = DATA / "video" / "car-detection.mp4"
POSITION = (127.05, 37.5)  # the test camera's longitude, latitude


def settings(**fields: object) -> AnalyticsSettings:
    return AnalyticsSettings.model_validate({"enabled": True, **fields})


def frames_of(
    video: Path, fps: float, until: float = math.inf
) -> Iterator[tuple[float, ColorFrame]]:
    """The video's frames at about `fps`, with their stream times (seconds), up to `until`."""
    container = av.open(str(video))
    stream = container.streams.video[0]
    step = max(1, round(float(stream.average_rate or 10) / fps))
    try:
        for index, frame in enumerate(container.decode(stream)):
            if index % step or frame.pts is None or frame.time_base is None:
                continue
            at = float(frame.pts * frame.time_base)
            if at > until:
                return
            yield at, cast(ColorFrame, frame.to_ndarray(format="bgr24"))
    finally:
        container.close()


def pipeline_for(
    camera_id: uuid.UUID,
    config: AnalyticsSettings,
    rules: RuleEngine | None = None,
    evidence: Evidence | None = None,
) -> Pipeline:
    """The real detector and tracker; `rules` defaults to the config's zones and lines at
    POSITION. Pass your own engine to reach it (take_reference) while frames go through."""
    detector = load_detector(config, get_settings().models_dir)
    if rules is None:
        rules = RuleEngine(camera_id, list(config.zones), list(config.lines), POSITION)
    return Pipeline(
        camera_id,
        config,
        detector,
        Tracker(frame_rate=config.fps),
        rules,
        dominant_colour,
        evidence,
    )
