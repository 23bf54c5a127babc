"""A camera's analysis carried from one segment to the next, whichever worker runs it.

A segment ends by saving its tracker and rule engine (open visits and their dwell times, line
sides, armed references) with the hash of the settings they were built for and the time of
their last frame. The next segment carries on from them when the settings (and the camera's
position) are unchanged and its first frame comes no later than C4HUB_ANALYTICS_RESUME_S after
that last one, and not before it. Otherwise it starts afresh but keeps the armed missing-object
references, each with when it was last present, so an object that vanished during a stream
outage is still reported missing.

The state is pickled. The bytes are only ever written by this node's own workers into its own
database (never taken from a request or a peer), so loading them runs no one else's code. The
format is versioned by a header; bytes of another version, or that no longer load (a library
upgrade changed a class), start the analysis afresh with a log line.
"""

import logging
import pickle
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hub.analytics.models import AnalyticsState
from hub.analytics.rules import RuleEngine
from hub.analytics.service import settings_hash
from hub.analytics.tracking import Tracker
from schemas.analytics import AnalyticsSettings, ArmedReference

log = logging.getLogger(__name__)

FORMAT = b"c4hub-analytics-state/1\n"  # bump when Carried or what it holds changes shape


@dataclass
class Carried:
    """The analysis one segment hands the next."""

    tracker: Tracker
    rules: RuleEngine
    watching_since: datetime  # the first frame of the unbroken history


@dataclass(frozen=True)
class Saved:
    """A camera's row as a segment starts: the state left by the last one, and the pending
    reference request."""

    settings_hash: str | None
    state: bytes | None
    requested_at: datetime | None


def load(session: Session, camera_id: uuid.UUID) -> Saved | None:
    row = session.get(AnalyticsState, camera_id)
    if row is None:
        return None
    return Saved(row.settings_hash, row.state, row.reference_requested_at)


def fresh(
    camera_id: uuid.UUID,
    settings: AnalyticsSettings,
    position: tuple[float, float],
    first_frame: datetime,
) -> Carried:
    return Carried(
        Tracker(frame_rate=settings.fps),
        RuleEngine(camera_id, list(settings.zones), list(settings.lines), position),
        first_frame,
    )


def resume(
    saved: Saved | None,
    camera_id: uuid.UUID,
    settings: AnalyticsSettings,
    position: tuple[float, float],
    first_frame: datetime,
    resume_s: float,
) -> Carried:
    """The analysis to go on with from `first_frame`: the saved one when it fits (same settings
    and position, its last frame at most `resume_s` earlier), else a fresh one, with the saved
    references when only time broke the history."""
    new = fresh(camera_id, settings, position, first_frame)
    if saved is None or saved.state is None:
        return new
    if saved.settings_hash != settings_hash(settings):
        log.info("camera %s: analytics settings changed; the analysis starts afresh", camera_id)
        return new
    earlier = _unpickled(camera_id, saved.state)
    if earlier is None:
        return new
    if earlier.rules.position != new.rules.position:
        log.info("camera %s: the camera moved; the analysis starts afresh", camera_id)
        return new
    last = earlier.rules.last_time
    if last is not None and last <= first_frame <= last + timedelta(seconds=resume_s):
        return earlier
    if last is not None and first_frame < last:
        # Rules take frames in time order only: a clock that went back starts afresh.
        log.warning(
            "camera %s: first frame %s is before the saved analysis' last (%s); starting afresh",
            camera_id,
            first_frame.isoformat(),
            last.isoformat(),
        )
    new.rules.keep_references(earlier.rules)
    return new


def _unpickled(camera_id: uuid.UUID, blob: bytes) -> Carried | None:
    if not blob.startswith(FORMAT):
        log.warning("camera %s: saved analysis of another format; starting afresh", camera_id)
        return None
    try:
        carried = pickle.loads(blob[len(FORMAT) :])
    except Exception as exc:  # whatever a damaged or outdated pickle raises: start afresh
        log.warning("camera %s: saved analysis does not load (%r); starting afresh", camera_id, exc)
        return None
    if not (
        isinstance(carried, Carried)
        and isinstance(carried.tracker, Tracker)
        and isinstance(carried.rules, RuleEngine)
    ):
        log.warning("camera %s: saved analysis is not one; starting afresh", camera_id)
        return None
    return carried


def reference_due(requested_at: datetime, carried: Carried) -> datetime:
    """When a reference asked for at `requested_at` is taken: once the analysis has watched
    for `stationary_s` since the request (history carried from earlier segments counts), so
    that whatever stands in a zone has had the time to be seen standing. Frame times are the
    wall-clock times frames were read at (RtspAdapter.sample), comparable with the request's."""
    since = max(requested_at, carried.watching_since)
    return since + timedelta(seconds=carried.rules.settings.stationary_s)


def save(
    session: Session,
    camera_id: uuid.UUID,
    settings: AnalyticsSettings,
    carried: Carried,
    honoured: datetime | None,
) -> None:
    """Keep the analysis for the next segment, with its armed references readable, and clear
    the reference request it took (`honoured`); a request made since stays pending."""
    armed = [
        ArmedReference(
            zone_id=r.zone_id,
            track_id=r.track_id,
            object_class=r.object_class,
            box=r.box,
            taken_at=r.taken_at,
        ).model_dump(mode="json")
        for r in carried.rules.references()
    ]
    values = {
        "settings_hash": settings_hash(settings),
        "last_frame_at": carried.rules.last_time,
        "state": FORMAT + pickle.dumps(carried, protocol=pickle.HIGHEST_PROTOCOL),
        "reference_objects": armed,
        "saved_at": func.now(),
    }
    stmt = insert(AnalyticsState).values(camera_id=camera_id, **values)
    session.execute(
        stmt.on_conflict_do_update(index_elements=[AnalyticsState.camera_id], set_=values)
    )
    if honoured is not None:
        session.execute(
            update(AnalyticsState)
            .where(
                AnalyticsState.camera_id == camera_id,
                AnalyticsState.reference_requested_at == honoured,
            )
            .values(reference_requested_at=None)
        )
    session.flush()
