"""Pure zone and line rules on one camera's tracks: presence, loitering, line crossing,
crowding and missing objects, turned into normalized events.

No I/O and no clock: time comes in with each frame, so a re-run of the same frames gives the
same events with the same ids. Every rule tests an object's foot point (`Box.foot`).

Decisions a reader needs (the numbers live in `RuleSettings`):

- Presence: a watched object enters a zone on the first frame its foot is inside (edge
  included) and leaves once it has been outside, or unseen, for `exit_grace_s`: a foot
  jittering on the edge, or a detection missed for a frame, does not flap enter/leave.
- Line crossing, with hysteresis: a track's side of a line is only confirmed when its foot is
  at least `line_margin` away from the (infinite) line. A crossing is counted when the
  confirmed side flips and the foot's path since the last confirmed side touched the segment.
  A foot oscillating within the band counts nothing; one that returns to the side it came
  from counts nothing; one that passes beyond an end of the segment counts nothing.
- Crowding: the count is the zone's current visitors as presence sees them (so with the same
  exit grace); the event is edge-triggered: active on going above `max_count`, inactive on
  falling back to it or below.
- Missing object: `take_reference()` records the objects standing in each zone that has
  `missing_after_s`. Standing: the track's box kept an IoU of at least `stationary_iou` with
  its anchor box for `stationary_s` (the anchor resets when the IoU drops). Same object: later
  either the same track id with its foot in the zone, or any object of a compatible class (the
  same, or both vehicles, as detectors flip car and truck) in the zone whose box overlaps the
  reference box by `same_object_iou`, because trackers give a parked object a new id after an
  occlusion. Gone for longer than `missing_after_s` gives one MISSING_OBJECT. References
  carried into a fresh engine (`keep_references`, after a gap in the stream) keep when they
  were last present, and match by class and box only: the new tracker numbers afresh.
- Class: a track's class is its most frequent detected class so far (detectors flip car,
  truck and bus on one vehicle), used for class filters, counts and events.
- Memory: tracks unseen for `forget_after_s` are forgotten, and at most `max_tracks` are kept
  (the least recently seen go first); a forgotten visitor leaves its zones.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid5

from hub.analytics.geometry import (
    Pt,
    box_iou,
    check_line,
    check_polygon,
    point_in_polygon,
    segments_intersect,
    signed_distance,
)
from schemas.analytics import (
    VEHICLE_CLASSES,
    Box,
    Direction,
    Line,
    ObjectClass,
    TrackedObject,
    Zone,
)
from schemas.events import DataValue, EventKind, NormalizedEvent

SOURCE = "analytics"
# Fixed namespace for analytics event ids: uuid5(namespace, what happened) is the same on every
# re-run, so storing the events again deduplicates instead of doubling them.
EVENT_NAMESPACE = UUID("6f1d7c1e-4b7a-5c59-9a43-2f0d3e8b6a11")


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Tolerances of the rules; distances are in frame fractions, times in seconds."""

    exit_grace_s: float = 1.0
    line_margin: float = 0.02
    forget_after_s: float = 30.0
    max_tracks: int = 512
    stationary_s: float = 10.0
    stationary_iou: float = 0.7
    same_object_iou: float = 0.5
    max_references: int = 256

    def __post_init__(self) -> None:
        if not 0 <= self.exit_grace_s < self.forget_after_s:
            raise ValueError("exit_grace_s must be at least 0 and below forget_after_s")
        if not 0 <= self.line_margin < 0.5:
            raise ValueError("line_margin must be in 0..0.5 of the frame")
        if self.max_tracks < 1 or self.max_references < 0 or self.stationary_s < 0:
            raise ValueError(
                "max_tracks must be positive, stationary_s and references not negative"
            )
        if not (0 < self.stationary_iou <= 1 and 0 < self.same_object_iou <= 1):
            raise ValueError("IoU thresholds must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class ReferenceObject:
    """An object standing in a zone when the reference was taken."""

    zone_id: str
    track_id: int
    object_class: ObjectClass
    box: Box
    taken_at: datetime


@dataclass(slots=True)
class _Visit:
    entered_at: datetime
    last_inside: datetime


@dataclass(slots=True)
class _LineSide:
    side: int = 0  # -1 left, +1 right, 0 not yet confirmed
    touched: bool = False  # the path touched the segment since the side was confirmed


@dataclass(slots=True)
class _Track:
    track_id: int
    object_class: ObjectClass
    box: Box
    last_seen: datetime
    anchor: Box  # the box stationarity is measured against
    still_since: datetime
    visits: dict[str, _Visit] = field(default_factory=dict)
    sides: dict[str, _LineSide] = field(default_factory=dict)
    loitered: set[str] = field(default_factory=set)
    votes: dict[ObjectClass, int] = field(default_factory=dict)

    def vote(self, seen: ObjectClass) -> None:
        """Detectors flip classes on one object (car, truck, bus): the track's class is the
        one seen most often, the latest one breaking ties."""
        self.votes[seen] = self.votes.get(seen, 0) + 1
        self.object_class = max(self.votes, key=lambda c: (self.votes[c], c is seen))


@dataclass(slots=True)
class _Reference:
    item: ReferenceObject
    last_present: datetime
    by_track: bool = True  # False once carried into an engine whose tracker numbers afresh


@dataclass(frozen=True, slots=True)
class _ZoneRule:
    zone: Zone
    ring: list[Pt]


@dataclass(frozen=True, slots=True)
class _LineRule:
    line: Line
    start: Pt
    end: Pt


def _watches(classes: list[ObjectClass], object_class: ObjectClass) -> bool:
    return not classes or object_class in classes


def _same_kind(a: ObjectClass, b: ObjectClass) -> bool:
    return a is b or (a in VEHICLE_CLASSES and b in VEHICLE_CLASSES)


def _unique(kind: str, ids: list[str]) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{kind} ids must be unique on a camera: {', '.join(repeated)}")


def _position(position: tuple[float, float] | None) -> tuple[float, float] | None:
    if position is None:
        return None
    lon, lat = position
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"camera position ({lon}, {lat}) is not a longitude, latitude pair")
    return lon, lat


class RuleEngine:
    """One camera's rules and the per-track state they need. Feed frames in time order."""

    def __init__(
        self,
        camera_id: UUID,
        zones: list[Zone],
        lines: list[Line],
        position: tuple[float, float] | None = None,
        settings: RuleSettings | None = None,
    ) -> None:
        """`position` is the camera's (longitude, latitude), copied into every event.
        Raises ValueError naming the zone or line that is not usable."""
        _unique("zone", [z.id for z in zones])
        _unique("line", [x.id for x in lines])
        self.camera_id = camera_id
        self.settings = settings or RuleSettings()
        self.position = _position(position)
        self._zones = [_ZoneRule(z, check_polygon(z.id, z.polygon)) for z in zones]
        self._lines = [_LineRule(x, *check_line(x.id, x.start, x.end)) for x in lines]
        self._tracks: dict[int, _Track] = {}
        self._crowded: set[str] = set()
        self._references: list[_Reference] = []
        self._counts: dict[str, dict[Direction, dict[ObjectClass, int]]] = {
            x.id: {d: {} for d in Direction} for x in lines
        }
        self._last_time: datetime | None = None

    @property
    def track_count(self) -> int:
        """How many tracks the engine remembers (bounded by `max_tracks`)."""
        return len(self._tracks)

    def counts(self) -> dict[str, dict[Direction, dict[ObjectClass, int]]]:
        """Crossings so far: {line id: {direction: {class: n}}}, a copy."""
        return {
            line: {d: dict(per_class) for d, per_class in by_dir.items()}
            for line, by_dir in self._counts.items()
        }

    def references(self) -> list[ReferenceObject]:
        """The reference objects not yet reported missing."""
        return [r.item for r in self._references]

    @property
    def last_time(self) -> datetime | None:
        """The time of the last frame fed in; None before the first."""
        return self._last_time

    def keep_references(self, earlier: "RuleEngine") -> None:
        """Carry `earlier`'s references, each with when it was last present, into this engine
        (for its zones that watch for missing objects): an engine started afresh after a gap
        in the stream still reports what vanished during the gap."""
        watched = {r.zone.id for r in self._zones if r.zone.missing_after_s is not None}
        kept = [r for r in earlier._references if r.item.zone_id in watched]
        # The new engine's tracker numbers its tracks afresh: a track id says nothing about
        # the reference object any more, only its class and box do.
        self._references = [
            _Reference(r.item, r.last_present, by_track=False)
            for r in kept[: self.settings.max_references]
        ]

    def step(
        self, frame_time: datetime, objects: list[TrackedObject], snapshot_ref: str | None = None
    ) -> list[NormalizedEvent]:
        """Feed one frame's tracked objects; returns the events it caused, in rule order."""
        self._check_frame(frame_time, objects)
        self._last_time = frame_time
        frame = _Frame(self, frame_time, snapshot_ref)
        for obj in objects:
            before = self._observe(obj, frame_time)
            self._cross_lines(frame, self._tracks[obj.track_id], before)
        self._update_visits(frame)
        self._forget(frame)
        self._loiter(frame)
        self._crowding(frame)
        self._missing(frame, objects)
        return frame.events

    def take_reference(self) -> list[ReferenceObject]:
        """Record the objects standing, at the last frame, in each zone with `missing_after_s`;
        replaces any earlier reference. Returns what was recorded."""
        self._references = []
        if self._last_time is None:
            return []
        now = self._last_time
        for rule in self._zones:
            if rule.zone.missing_after_s is None:
                continue
            for track in sorted(self._tracks.values(), key=lambda t: t.track_id):
                if len(self._references) >= self.settings.max_references:
                    break
                if self._stands_in(track, rule, now):
                    item = ReferenceObject(
                        rule.zone.id, track.track_id, track.object_class, track.box, now
                    )
                    self._references.append(_Reference(item, now))
        return self.references()

    def _stands_in(self, track: _Track, rule: _ZoneRule, now: datetime) -> bool:
        return (
            track.last_seen == now
            and _watches(rule.zone.classes, track.object_class)
            and point_in_polygon(track.box.foot, rule.ring)
            and (now - track.still_since).total_seconds() >= self.settings.stationary_s
        )

    def _check_frame(self, frame_time: datetime, objects: list[TrackedObject]) -> None:
        if frame_time.tzinfo is None or frame_time.utcoffset() is None:
            raise ValueError("frame_time must carry a time zone")
        if self._last_time is not None and frame_time < self._last_time:
            raise ValueError(
                f"frames must come in time order: {frame_time.isoformat()} is before "
                f"{self._last_time.isoformat()}"
            )
        ids = [o.track_id for o in objects]
        if len(set(ids)) != len(ids):
            raise ValueError("a track id appears twice in one frame")

    def _observe(self, obj: TrackedObject, now: datetime) -> Pt | None:
        """Update the track; returns its previous foot point (None for a new track)."""
        track = self._tracks.get(obj.track_id)
        if track is None:
            track = _Track(obj.track_id, obj.object_class, obj.box, now, obj.box, now)
            track.vote(obj.object_class)
            self._tracks[obj.track_id] = track
            return None
        before = track.box.foot
        track.box, track.last_seen = obj.box, now
        track.vote(obj.object_class)
        if box_iou(track.anchor, obj.box) < self.settings.stationary_iou:
            track.anchor, track.still_since = obj.box, now
        return before

    def _cross_lines(self, frame: "_Frame", track: _Track, before: Pt | None) -> None:
        after = track.box.foot
        for rule in self._lines:
            if not _watches(rule.line.classes, track.object_class):
                continue
            state = track.sides.setdefault(rule.line.id, _LineSide())
            if before is not None and segments_intersect(before, after, rule.start, rule.end):
                state.touched = True
            distance = signed_distance(rule.start, rule.end, after)
            if abs(distance) < self.settings.line_margin:
                continue  # inside the hysteresis band: the side is not confirmed yet
            side = 1 if distance > 0 else -1
            if state.side == -side and state.touched:
                self._count_crossing(frame, track, rule, side)
            state.side, state.touched = side, False

    def _count_crossing(self, frame: "_Frame", track: _Track, rule: _LineRule, side: int) -> None:
        # Forward is left to right seen from start to end: the side flips from -1 to +1.
        direction = Direction.FORWARD if side > 0 else Direction.BACKWARD
        per_class = self._counts[rule.line.id][direction]
        per_class[track.object_class] = per_class.get(track.object_class, 0) + 1
        name = rule.line.forward_name if side > 0 else rule.line.backward_name
        data: dict[str, DataValue] = {
            "class": track.object_class.value,
            "direction": direction.value,
        }
        if name is not None:
            data["direction_name"] = name
        frame.emit(EventKind.LINE_CROSSING, ("line", rule.line.id), track.track_id, None, data)

    def _update_visits(self, frame: "_Frame") -> None:
        grace = self.settings.exit_grace_s
        for track in self._tracks.values():
            seen = track.last_seen == frame.time
            for rule in self._zones:
                zone_id = rule.zone.id
                inside = (
                    seen
                    and _watches(rule.zone.classes, track.object_class)
                    and point_in_polygon(track.box.foot, rule.ring)
                )
                visit = track.visits.get(zone_id)
                if inside and visit is None:
                    track.visits[zone_id] = _Visit(frame.time, frame.time)
                    frame.presence(track, zone_id, True, 0.0)
                elif inside and visit is not None:
                    visit.last_inside = frame.time
                elif visit is not None and _seconds(visit.last_inside, frame.time) >= grace:
                    self._leave(frame, track, zone_id)

    def _leave(self, frame: "_Frame", track: _Track, zone_id: str) -> None:
        visit = track.visits.pop(zone_id)
        frame.presence(track, zone_id, False, _seconds(visit.entered_at, visit.last_inside))

    def _forget(self, frame: "_Frame") -> None:
        limit = self.settings.forget_after_s
        stale = [t for t in self._tracks.values() if _seconds(t.last_seen, frame.time) > limit]
        excess: list[_Track] = []
        over = len(self._tracks) - len(stale) - self.settings.max_tracks
        if over > 0:
            stale_ids = {t.track_id for t in stale}
            fresh = [t for t in self._tracks.values() if t.track_id not in stale_ids]
            excess = sorted(fresh, key=lambda t: (t.last_seen, t.track_id))[:over]
        for track in stale + excess:  # disjoint: excess is taken from the fresh ones
            for zone_id in list(track.visits):
                self._leave(frame, track, zone_id)
            del self._tracks[track.track_id]

    def _loiter(self, frame: "_Frame") -> None:
        for rule in self._zones:
            limit = rule.zone.dwell_s
            if limit is None:
                continue
            for track in self._tracks.values():
                visit = track.visits.get(rule.zone.id)
                if visit is None or rule.zone.id in track.loitered:
                    continue
                dwell = _seconds(visit.entered_at, visit.last_inside)
                if dwell > limit:
                    track.loitered.add(rule.zone.id)
                    data: dict[str, DataValue] = {
                        "class": track.object_class.value,
                        "dwell_s": round(dwell, 3),
                    }
                    frame.emit(
                        EventKind.LOITERING, ("zone", rule.zone.id), track.track_id, None, data
                    )

    def _crowding(self, frame: "_Frame") -> None:
        for rule in self._zones:
            limit, zone_id = rule.zone.max_count, rule.zone.id
            if limit is None:
                continue
            count = sum(1 for t in self._tracks.values() if zone_id in t.visits)
            crowded = count > limit
            if crowded == (zone_id in self._crowded):
                continue  # edge-triggered: only changes are events
            if crowded:
                self._crowded.add(zone_id)
            else:
                self._crowded.discard(zone_id)
            data: dict[str, DataValue] = {"count": count, "max_count": limit}
            frame.emit(EventKind.CROWDING, ("zone", zone_id), None, crowded, data)

    def _missing(self, frame: "_Frame", objects: list[TrackedObject]) -> None:
        rules = {r.zone.id: r for r in self._zones}
        kept: list[_Reference] = []
        for ref in self._references:
            rule = rules[ref.item.zone_id]
            if any(self._is_reference(ref, rule, obj) for obj in objects):
                ref.last_present = frame.time
            limit = rule.zone.missing_after_s
            if limit is not None and _seconds(ref.last_present, frame.time) > limit:
                data: dict[str, DataValue] = {
                    "class": ref.item.object_class.value,
                    "last_seen": ref.last_present.astimezone(UTC).isoformat(),
                }
                key = ("zone", rule.zone.id)
                frame.emit(EventKind.MISSING_OBJECT, key, ref.item.track_id, None, data)
            else:
                kept.append(ref)
        self._references = kept

    def _is_reference(self, ref: _Reference, rule: _ZoneRule, obj: TrackedObject) -> bool:
        item = ref.item
        if not point_in_polygon(obj.box.foot, rule.ring):
            return False
        if ref.by_track and obj.track_id == item.track_id:
            return True
        return (
            _same_kind(obj.object_class, item.object_class)
            and box_iou(obj.box, item.box) >= self.settings.same_object_iou
        )


def _seconds(since: datetime, until: datetime) -> float:
    return (until - since).total_seconds()


class _Frame:
    """One step's time, snapshot and the events it has produced so far."""

    def __init__(self, engine: RuleEngine, time: datetime, snapshot: str | None) -> None:
        self.engine, self.time, self.snapshot = engine, time, snapshot
        self.events: list[NormalizedEvent] = []

    def presence(self, track: _Track, zone_id: str, active: bool, dwell: float) -> None:
        data: dict[str, DataValue] = {"class": track.object_class.value}
        if not active:
            data["dwell_s"] = round(dwell, 3)
        self.emit(EventKind.INTRUSION, ("zone", zone_id), track.track_id, active, data)

    def emit(
        self,
        kind: EventKind,
        rule: tuple[str, str],
        track_id: int | None,
        active: bool | None,
        data: dict[str, DataValue],
    ) -> None:
        """`rule` is ("zone", id) or ("line", id): the event's subject."""
        subject = {rule[0]: rule[1]}
        if track_id is not None:
            subject["track"] = str(track_id)
        if self.snapshot is not None:
            data["snapshot"] = self.snapshot
        position = self.engine.position
        if position is not None:
            data["lon"], data["lat"] = position
        self.events.append(
            NormalizedEvent(
                id=event_id(self.engine.camera_id, kind, rule, track_id, active, self.time),
                camera_id=self.engine.camera_id,
                kind=kind,
                occurred_at=self.time,
                active=active,
                source=SOURCE,
                topic=f"c4hub/analytics/{kind.value}",
                subject=subject,
                data=data,
            )
        )


def event_id(
    camera_id: UUID,
    kind: EventKind,
    rule: tuple[str, str],
    track_id: int | None,
    active: bool | None,
    at: datetime,
) -> UUID:
    """The same camera, rule, track, state and frame time always give the same id."""
    track = "-" if track_id is None else str(track_id)
    when = at.astimezone(UTC).isoformat()
    name = f"{camera_id}/{kind.value}/{rule[0]}:{rule[1]}/{track}/{active}/{when}"
    return uuid5(EVENT_NAMESPACE, name)
