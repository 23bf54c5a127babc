"""Multi-object tracking per camera: ByteTrack keeps one id per object across frames.

ByteTrack left `supervision` in its 0.27 release for Roboflow's `trackers` package (same
authors, supervision's Detections as its input); this wraps `trackers.ByteTrackTracker`.
"""

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from schemas.analytics import Box, Detection, ObjectClass, TrackedObject

CLASSES = list(ObjectClass)
CLASS_INDEX = {object_class: index for index, object_class in enumerate(CLASSES)}


class Tracker:
    """One per camera stream: ids are only meaningful within the stream they were given in.

    `frame_rate` is the rate frames are analysed at (AnalyticsSettings.fps), not the camera's:
    ByteTrack sizes its lost-track buffer in frames from it. `update` also takes each frame's
    time, so a late or dropped frame stretches the prediction instead of shifting ids.

    ByteTrack matches boxes whatever their class, and a detector may call one car a bus in
    some frames: each track reports the class its detections named most (confidence-weighted).
    """

    def __init__(
        self, frame_rate: float, high_confidence: float = 0.5, lost_after_s: float = 2.0
    ) -> None:
        # ByteTrack's two stages: detections of at least `high_confidence` start tracks and
        # match first; weaker ones only extend tracks already there (through occlusion, blur).
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(lost_after_s * 30)),  # counted in 30 fps frames
            frame_rate=frame_rate,
            track_activation_threshold=high_confidence,
            minimum_consecutive_frames=2,
            high_conf_det_threshold=high_confidence,
        )
        self._forget_after_s = 2 * lost_after_s
        self._votes: dict[int, dict[ObjectClass, float]] = {}
        self._last_seen: dict[int, float] = {}

    def update(self, detections: list[Detection], frame_time: float) -> list[TrackedObject]:
        """The frame's detections that belong to a confirmed track, with its id. `frame_time`
        is the frame's time in seconds (stream timestamp or monotonic clock), increasing."""
        tracked = self._tracker.update(_to_supervision(detections), timestamp=frame_time)
        # The tracker hands back the detections it was given (reordered), ids added.
        assert tracked.tracker_id is not None and tracked.class_id is not None
        assert tracked.confidence is not None
        objects = []
        # Plain Python numbers from here: a handful of objects, read once each.
        for (x1, y1, x2, y2), track_id, class_id, confidence in zip(
            tracked.xyxy.tolist(),
            tracked.tracker_id.tolist(),
            tracked.class_id.tolist(),
            tracked.confidence.tolist(),
            strict=True,
        ):
            if track_id < 0:  # not (yet) a confirmed track
                continue
            objects.append(
                TrackedObject(
                    track_id=track_id,
                    object_class=self._vote(track_id, CLASSES[class_id], confidence, frame_time),
                    confidence=confidence,
                    box=Box(x=x1, y=y1, w=x2 - x1, h=y2 - y1),
                )
            )
        self._forget(frame_time)
        return objects

    def _vote(
        self, track_id: int, object_class: ObjectClass, confidence: float, frame_time: float
    ) -> ObjectClass:
        self._last_seen[track_id] = frame_time
        votes = self._votes.setdefault(track_id, {})
        votes[object_class] = votes.get(object_class, 0.0) + confidence
        return max(votes, key=lambda name: votes[name])

    def _forget(self, frame_time: float) -> None:
        """Drop the class votes of tracks ByteTrack has given up on, so memory stays flat."""
        for track_id, last in list(self._last_seen.items()):
            if frame_time - last > self._forget_after_s:
                del self._votes[track_id], self._last_seen[track_id]


def _to_supervision(detections: list[Detection]) -> sv.Detections:
    """The detections as ByteTrack takes them: xyxy boxes (frame fractions), confidences and
    class ids, built from plain lists in one pass."""
    xyxy: list[tuple[float, float, float, float]] = []
    confidence: list[float] = []
    class_id: list[int] = []
    for d in detections:
        box = d.box
        xyxy.append((box.x, box.y, box.x + box.w, box.y + box.h))
        confidence.append(d.confidence)
        class_id.append(CLASS_INDEX[d.object_class])
    return sv.Detections(
        xyxy=np.array(xyxy, dtype=np.float64).reshape(-1, 4),
        confidence=np.array(confidence, dtype=np.float64),
        class_id=np.array(class_id, dtype=int),
    )
