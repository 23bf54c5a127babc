"""One camera's analysis, frame by frame: detect, track, apply the rules, and collect what the
plate readers need. No database and no broker here: the segment task feeds frames in and
stores what comes out, so tests can run it on a video file.
"""

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable
from uuid import UUID

import numpy as np
import numpy.typing as npt

from adapters.base import ColorFrame
from hub.analytics.detection.base import Prepared
from schemas.analytics import (
    VEHICLE_CLASSES,
    AnalyticsSettings,
    Box,
    Colour,
    Detection,
    Direction,
    ObjectClass,
    TrackedObject,
)
from schemas.events import EventKind, NormalizedEvent

# A vehicle is handed to the plate readers with its best few pictures: the largest boxes, as a
# plate is readable only when it is large enough.
CROPS_PER_VEHICLE = 3
# A vehicle track unseen for this many frames has left: its sighting is complete.
GONE_AFTER_FRAMES = 5


class FrameDetector(Protocol):
    def detect(self, frame: ColorFrame) -> list[Detection]: ...


@runtime_checkable
class StagedDetector(Protocol):
    """A detector in three steps, so that frames can flow through it: `prepare` (frame to
    model input) and `infer` (the model run, which releases the GIL) share nothing between
    calls and may run in other threads; `read` (the answer to detections) runs in order."""

    def detect(self, frame: ColorFrame) -> list[Detection]: ...

    def prepare(self, frame: ColorFrame) -> Prepared: ...

    def infer(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...

    def read(self, rows: npt.NDArray[np.float32], prepared: Prepared) -> list[Detection]: ...


class FrameTracker(Protocol):
    def update(self, detections: list[Detection], frame_time: float) -> list[TrackedObject]:
        """`frame_time` in seconds (POSIX time), increasing."""
        ...


class TrackRules(Protocol):
    def step(
        self, frame_time: datetime, objects: list[TrackedObject], snapshot_ref: str | None
    ) -> list[NormalizedEvent]: ...


ColourOf = Callable[[ColorFrame], Colour | None]
Evidence = Callable[[datetime, ColorFrame], str]  # stores a frame; returns its reference


@dataclass
class VehicleSighting:
    """A vehicle track from its first to its last frame, with what the plate readers need."""

    camera_id: UUID
    track_id: int
    object_class: ObjectClass
    first_seen: datetime
    last_seen: datetime
    crops: list[tuple[float, ColorFrame]] = field(default_factory=list)  # (area, crop)
    direction: Direction | None = None
    colour: Colour | None = None
    missing_frames: int = 0

    def keep(self, box: Box, frame: ColorFrame) -> None:
        crop = _crop(frame, box)
        if crop is None:
            return
        area = box.w * box.h
        self.crops.append((area, crop))
        self.crops.sort(key=lambda pair: pair[0], reverse=True)
        del self.crops[CROPS_PER_VEHICLE:]


@dataclass(frozen=True)
class FrameOutcome:
    events: list[NormalizedEvent]
    objects: list[TrackedObject]
    finished: list[VehicleSighting]  # vehicles that left the picture


def _crop(frame: ColorFrame, box: Box) -> ColorFrame | None:
    height, width = frame.shape[:2]
    x0, y0 = int(box.x * width), int(box.y * height)
    x1, y1 = int((box.x + box.w) * width), int((box.y + box.h) * height)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    crop: ColorFrame = np.ascontiguousarray(frame[y0:y1, x0:x1])
    return crop


class Pipeline:
    def __init__(
        self,
        camera_id: UUID,
        settings: AnalyticsSettings,
        detector: FrameDetector,
        tracker: FrameTracker,
        rules: TrackRules,
        colour_of: ColourOf | None = None,
        evidence: Evidence | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.settings = settings
        self.detector = detector
        self.tracker = tracker
        self.rules = rules
        self.colour_of = colour_of
        self.evidence = evidence
        self.classes = frozenset(settings.classes)
        self.vehicles: dict[int, VehicleSighting] = {}
        self.frames = 0

    @property
    def follows_vehicles(self) -> bool:
        return self.settings.plates or self.settings.vehicle_attributes

    def process(self, frame_time: datetime, frame: ColorFrame) -> FrameOutcome:
        """One frame: the events it caused, the tracked objects, and vehicles that left."""
        _check(frame)
        return self._after_detection(frame_time, frame, self.detector.detect(frame))

    def stream(
        self, frames: Iterable[tuple[datetime, ColorFrame]]
    ) -> Generator[FrameOutcome, None, None]:
        """`process` over a stream of (time, frame): the same outcomes, in the same order.

        With a staged detector the work is shared by three threads, so the model runs back to
        back while the rest happens beside it: one reads and letterboxes frames, one runs the
        model, and the caller's thread decodes, tracks and applies the rules. No frame waits
        for the next one: on a live stream each outcome comes as soon as its frame is analysed.
        Exhaust or close the iterator: closing stops the threads and closes `frames`. An error
        from `frames` or a bad frame is raised after the outcomes of the frames before it."""
        detector = self.detector
        if not isinstance(detector, StagedDetector):
            with _opened(frames) as iterator:
                for frame_time, frame in iterator:
                    yield self.process(frame_time, frame)
            return

        def prepare(item: tuple[datetime, ColorFrame]) -> tuple[datetime, ColorFrame, Prepared]:
            frame_time, frame = item
            _check(frame)
            return frame_time, frame, detector.prepare(frame)

        def infer(item: tuple[datetime, ColorFrame, Prepared]) -> _Inferred:
            frame_time, frame, prepared = item
            return frame_time, frame, prepared, detector.infer(prepared.blob)

        # One frame is letterboxed while the model runs on the one before; the model may run
        # one frame ahead of the caller. Deeper queues would not run the model any faster, and
        # would only read frames earlier before their analysis.
        prepared = _in_thread(frames, prepare, "pipeline-prepare", ahead=1)
        with closing(_in_thread(prepared, infer, "pipeline-infer", ahead=2)) as inferred:
            for frame_time, frame, ready, rows in inferred:
                yield self._after_detection(frame_time, frame, detector.read(rows, ready))

    def _after_detection(
        self, frame_time: datetime, frame: ColorFrame, found: list[Detection]
    ) -> FrameOutcome:
        self.frames += 1
        detections = [d for d in found if d.object_class in self.classes]
        objects = self.tracker.update(detections, frame_time.timestamp())
        # Whether a frame is evidence is known only once the rules spoke: its reference is
        # filled in afterwards, and only frames that caused events are kept.
        events = self.rules.step(frame_time, objects, None)
        if events and self.evidence is not None:
            ref = self.evidence(frame_time, frame)
            events = [_with_snapshot(event, ref) for event in events]
        finished = self._follow(frame_time, frame, objects, events) if self.follows_vehicles else []
        return FrameOutcome(events, objects, finished)

    def finish(self) -> list[VehicleSighting]:
        """The vehicles still in the picture when the analysis stops."""
        left, self.vehicles = list(self.vehicles.values()), {}
        return [self._complete(sighting) for sighting in left]

    def _follow(
        self,
        frame_time: datetime,
        frame: ColorFrame,
        objects: list[TrackedObject],
        events: list[NormalizedEvent],
    ) -> list[VehicleSighting]:
        seen: set[int] = set()
        for obj in objects:
            if obj.object_class not in VEHICLE_CLASSES:
                continue
            seen.add(obj.track_id)
            sighting = self.vehicles.get(obj.track_id)
            if sighting is None:
                sighting = VehicleSighting(
                    self.camera_id, obj.track_id, obj.object_class, frame_time, frame_time
                )
                self.vehicles[obj.track_id] = sighting
            sighting.last_seen = frame_time
            sighting.missing_frames = 0
            sighting.keep(obj.box, frame)
        for event in events:
            track, direction = event.subject.get("track", ""), event.data.get("direction")
            if (
                event.kind is EventKind.LINE_CROSSING
                and track.isdigit()
                and int(track) in self.vehicles
                and direction in (Direction.FORWARD.value, Direction.BACKWARD.value)
            ):
                self.vehicles[int(track)].direction = Direction(str(direction))
        finished = []
        for track_id, sighting in list(self.vehicles.items()):
            if track_id in seen:
                continue
            sighting.missing_frames += 1
            if sighting.missing_frames >= GONE_AFTER_FRAMES:
                finished.append(self.vehicles.pop(track_id))
        return [self._complete(sighting) for sighting in finished]

    def _complete(self, sighting: VehicleSighting) -> VehicleSighting:
        if self.settings.vehicle_attributes and self.colour_of and sighting.crops:
            sighting.colour = self.colour_of(sighting.crops[0][1])
        return sighting


def _with_snapshot(event: NormalizedEvent, ref: str) -> NormalizedEvent:
    return event.model_copy(update={"data": {**event.data, "snapshot": ref}})


def _check(frame: ColorFrame) -> None:
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"a frame must be H x W x 3 uint8 BGR, not {frame.shape} {frame.dtype}")


In = TypeVar("In")
Out = TypeVar("Out")


@contextmanager
def _opened(items: Iterable[In]) -> Iterator[Iterator[In]]:
    """An iterator over `items`, closed on the way out when it is a generator (a camera's
    frames hold its connection open until then)."""
    iterator = iter(items)
    try:
        yield iterator
    finally:
        if isinstance(iterator, Generator):
            iterator.close()


_Inferred = tuple[datetime, ColorFrame, Prepared, npt.NDArray[np.float32]]


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def _in_thread(
    items: Iterable[In], work: Callable[[In], Out], name: str, ahead: int
) -> Generator[Out, None, None]:
    """`work` applied to each item in a thread of its own, at most `ahead` results (done or
    under way) before the caller has taken them: results in order, and an error (from
    `items` or `work`) raised where its item's result would have come. An item is taken from
    `items` only when there is room for its result, so a frame is not read long before it can
    be analysed. Closing the iterator stops the thread and closes `items`."""
    # (result,) for a result, _Failed for an error, None at the end.
    results: queue.SimpleQueue[tuple[Out] | _Failed | None] = queue.SimpleQueue()
    room = threading.Semaphore(ahead - 1)  # after one result is made, room for the next
    stop = threading.Event()

    def produce() -> None:
        try:
            with _opened(items) as iterator:
                for item in iterator:
                    results.put((work(item),))
                    room.acquire()
                    if stop.is_set():
                        return
            results.put(None)
        except BaseException as exc:  # raised again on the caller's thread, in order
            results.put(_Failed(exc))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while (got := results.get()) is not None:
            if isinstance(got, _Failed):
                raise got.error
            room.release()
            yield got[0]
    finally:
        stop.set()
        room.release()  # a thread waiting for room sees the stop
        thread.join()
