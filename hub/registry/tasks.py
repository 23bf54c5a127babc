"""Registry tasks: probe a registered camera and write what it is into its record.

`run_probe` does the work and takes everything it needs (sessions, the credential box, the
adapter registry) as arguments, so tests call it directly with their own adapters. The Celery
task `probe_camera` only builds those from the node's settings and calls it.

Retries: an adapter's answer is final for its job. A probe is an operator's question, answered
within the timeout: a refused, unreachable, slow or wrongly configured camera ends the job as
`failed` with the adapter's code and safe message, and the operator probes again when the
camera is fixed. Only the node's own transient trouble (the database unreachable) is retried,
at most 3 times with exponential backoff; then the message dead-letters to `probe.dead`.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import AdapterError, Target
from adapters.registry import AdapterLoadError, AdapterRegistry, UnknownAdapter
from hub.db import make_engine, make_sessionmaker, session_scope
from hub.keys import credential_key
from hub.registry.cameras import footprint_wkt, keep_device_service
from hub.registry.convert import point_of
from hub.registry.models import Camera
from hub.registry.probe import FINISHED, ProbeJob, ProbeState
from hub.registry.secrets import CredentialBox
from hub.registry.targets import Address, target_for
from hub.settings import get_settings
from hub.worker import celery_app
from schemas.adapters import CameraDescription
from schemas.enums import AdapterKind, CameraStatus

log = logging.getLogger(__name__)

# Failures that say the camera cannot be reached: its record turns offline.
OFFLINE_CODES = frozenset({"unreachable", "connection_refused", "timeout"})


@dataclass(frozen=True)
class ProbeContext:
    sessions: sessionmaker[Session]
    box: CredentialBox
    adapters: AdapterRegistry
    timeout_s: float = 10.0  # per camera call; the whole probe gets three times that


@dataclass(frozen=True)
class Failure:
    code: str
    message: str


def run_probe(job_id: uuid.UUID, ctx: ProbeContext) -> ProbeState | None:
    """Probe the job's camera and record the outcome; the job's final state, or None if the
    job no longer exists. A finished job is left alone, so a redelivered message is harmless.

    Two short transactions (claim, then finish) rather than one held open across the network
    call: a slow camera must not pin a database connection and row lock for its timeout.
    """
    claim = _claim(job_id, ctx)
    if isinstance(claim, ProbeState) or claim is None:
        return claim
    outcome = _probe(claim, ctx)
    return _finish(job_id, outcome, ctx)


def _now() -> datetime:
    return datetime.now(UTC)


def _claim(job_id: uuid.UUID, ctx: ProbeContext) -> Address | ProbeState | None:
    with session_scope(ctx.sessions) as session:
        job = session.get(ProbeJob, job_id, with_for_update=True)
        if job is None:
            log.warning("probe job %s does not exist (camera deleted?); skipped", job_id)
            return None
        if job.state in FINISHED:
            return job.state
        camera = session.get(Camera, job.camera_id)
        assert camera is not None  # the foreign key cascades deletes to jobs
        job.state = ProbeState.RUNNING
        job.started_at = _now()
        job.attempts += 1
        return Address(
            adapter=camera.adapter,
            stream_uri=camera.stream_uri,
            snapshot_uri=camera.snapshot_uri,
            device_uri=camera.device_uri,
            sealed=camera.credentials_sealed,
        )


def _target(claim: Address, ctx: ProbeContext) -> Target:
    """Where to probe: see hub.registry.targets (ONVIF goes to the device service)."""
    creds = ctx.box.open(claim.sealed) if claim.sealed else None
    return target_for(claim, creds, ctx.timeout_s)


def _probe(claim: Address, ctx: ProbeContext) -> CameraDescription | Failure:
    try:
        adapter = ctx.adapters.create(claim.adapter.value)
    except (UnknownAdapter, AdapterLoadError) as exc:
        return Failure("adapter_unavailable", str(exc))
    try:
        target = _target(claim, ctx)
    except ValueError as exc:  # messages of Target and CredentialBox never echo values
        return Failure("invalid_address", f"cannot probe this camera: {exc}")
    try:
        return asyncio.run(asyncio.wait_for(adapter.probe(target), timeout=3 * ctx.timeout_s))
    except AdapterError as exc:
        return Failure(exc.code, target.redact(exc.message))
    except (TimeoutError, SoftTimeLimitExceeded):
        return Failure("timeout", f"the probe took longer than {3 * ctx.timeout_s:g} s")
    except Exception as exc:  # a broken adapter fails its job, not the worker
        log.error("adapter %s raised %s while probing", claim.adapter, type(exc).__name__)
        return Failure("adapter_error", "the adapter failed unexpectedly; see the worker log")


def _finish(
    job_id: uuid.UUID, outcome: CameraDescription | Failure, ctx: ProbeContext
) -> ProbeState:
    with session_scope(ctx.sessions) as session:
        job = session.get(ProbeJob, job_id, with_for_update=True)
        if job is None:
            raise LookupError(f"probe job {job_id} vanished while it ran")
        if job.state in FINISHED:
            return job.state
        camera = session.get(Camera, job.camera_id)
        assert camera is not None
        job.finished_at = _now()
        if isinstance(outcome, Failure):
            job.state = ProbeState.FAILED
            job.error_code = outcome.code
            job.error_message = outcome.message
            if outcome.code in OFFLINE_CODES and camera.status is not CameraStatus.DECOMMISSIONED:
                camera.status = CameraStatus.OFFLINE
        else:
            job.state = ProbeState.SUCCEEDED
            job.error_code = job.error_message = None
            job.result = outcome.model_dump(mode="json")
            _describe(camera, outcome, job.finished_at)
        return job.state


def _describe(camera: Camera, found: CameraDescription, seen_at: datetime) -> None:
    """Write what a probe found into the record. Facts the probe does not know (null) keep
    the value an operator entered; RTSP cannot tell PTZ, so only ONVIF sets it."""
    camera.vendor = found.manufacturer or camera.vendor
    camera.model = found.model or camera.model
    camera.firmware = found.firmware or camera.firmware
    main = found.main_stream
    # A device service given as stream_uri is kept before the stream replaces it (cameras
    # registered before device_uri existed), or the next probe would go to port 80.
    keep_device_service(camera)
    if main is not None and main.uri is not None:
        camera.stream_uri = main.uri
    if found.snapshot_uri is not None:
        camera.snapshot_uri = found.snapshot_uri
    camera.capabilities = [capability.value for capability in found.capabilities]
    if found.streams:
        camera.streams = [stream.model_dump(mode="json") for stream in found.streams]
    if found.adapter is AdapterKind.ONVIF and found.ptz != camera.ptz:
        camera.ptz = found.ptz
        point = point_of(camera.location)
        camera.fov = footprint_wkt(  # type: ignore[assignment]
            point.lon, point.lat, camera.heading_deg, camera.fov_deg, camera.range_m, camera.ptz
        )
    if camera.status is not CameraStatus.DECOMMISSIONED:
        camera.status = CameraStatus.ONLINE
    camera.last_seen_at = seen_at


@lru_cache(maxsize=1)
def worker_context() -> ProbeContext:
    """Built once per worker process, on its first task (after the fork)."""
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError("the worker needs C4HUB_DATABASE_URL")
    return ProbeContext(
        sessions=make_sessionmaker(make_engine(settings.database_url)),
        box=CredentialBox(credential_key(settings)),
        adapters=AdapterRegistry.installed(),
        timeout_s=settings.probe_timeout_s,
    )


@celery_app.task(  # type: ignore[untyped-decorator]  # celery is untyped
    name="hub.registry.tasks.probe_camera",
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def probe_camera(job_id: str) -> str | None:
    """Run the probe job `job_id` (a UUID string); returns its final state."""
    state = run_probe(uuid.UUID(job_id), worker_context())
    return None if state is None else state.value
