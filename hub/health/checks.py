"""One health check of one camera through its adapter: no database here.

A decode check reads a window of frames and runs the tamper checks against the camera's own
baseline; a reachability check only opens the stream (what consent allows for cameras whose
owners share footage on request or on alarm only). Every check is bounded by its timeout and
ends in a `CheckResult`, whatever the camera does.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from adapters import tamper
from adapters.base import AdapterError, FrameSource, GrayFrame, Target
from adapters.registry import AdapterLoadError, AdapterRegistry, UnknownAdapter
from hub.health.rules import classify, finding_for_error, ordered, should_learn_baseline
from schemas.enums import AdapterKind
from schemas.health import CheckDepth, CheckResult, Finding, Measures

log = logging.getLogger(__name__)

Signature = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Baseline:
    sharpness: float
    signature: Signature

    def to_bytes(self) -> bytes:
        return self.signature.astype("<f4").tobytes()

    @staticmethod
    def from_row(sharpness: float | None, signature: bytes | None) -> "Baseline | None":
        if sharpness is None or signature is None or sharpness <= 0:
            return None
        rows, cols = tamper.SCENE_GRID
        array = np.frombuffer(signature, dtype="<f4")
        if array.size != rows * cols:  # a grid change since it was learned: learn again
            return None
        return Baseline(sharpness, array.reshape(rows, cols).astype(np.float32))


@dataclass(frozen=True, slots=True)
class Plan:
    """What a check needs to know about its camera, read before the check starts."""

    camera_id: uuid.UUID
    adapter: AdapterKind
    address: str  # the stream URI, or the snapshot URL of an http_snapshot camera
    target: Target | None  # None when the address cannot be checked (message in `problem`)
    depth: CheckDepth
    baseline: Baseline | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class FramePlan:
    """How many frames to read: `warmup` are dropped (a stream's first second may still be
    settling), `window` are judged."""

    warmup: int = 12
    window: int = 13
    timeout_s: float = 20.0


@dataclass(frozen=True, slots=True)
class Outcome:
    camera_id: uuid.UUID
    result: CheckResult
    learned: Baseline | None = None


class _Done(Protocol):
    def __call__(
        self,
        findings: list[Finding],
        *,
        code: str | None = None,
        message: str | None = None,
        measures: Measures | None = None,
    ) -> CheckResult: ...


def source_adapter(adapter: AdapterKind, address: str) -> str | None:
    """Which installed adapter reads pictures for a camera of this kind at this address."""
    if adapter is AdapterKind.HTTP_SNAPSHOT:
        return "http_snapshot"
    if adapter is AdapterKind.VLC:
        return "vlc"
    scheme = urlsplit(address).scheme
    if scheme in ("rtsp", "rtsps"):
        return "rtsp"  # ONVIF cameras stream RTSP; the probe wrote the URI into the record
    if adapter is AdapterKind.ONVIF and scheme in ("http", "https"):
        return "onvif"  # not probed yet: only its device service is known; ask it who it is
    return None


def utc_now() -> datetime:
    return datetime.now(UTC)


async def run_check(
    plan: Plan,
    adapters: AdapterRegistry,
    frames: FramePlan,
    clock: Callable[[], datetime] = utc_now,
) -> Outcome:
    started = time.monotonic()
    checked_at = clock()

    def done(
        findings: list[Finding],
        *,
        code: str | None = None,
        message: str | None = None,
        measures: Measures | None = None,
    ) -> CheckResult:
        return CheckResult(
            checked_at=checked_at,
            depth=plan.depth,
            observed=classify(findings),
            findings=ordered(findings),
            error_code=code,
            message=message[:500] if message else None,
            measures=measures,
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    name = source_adapter(plan.adapter, plan.address)
    if plan.target is None or name is None:
        message = plan.problem or f"no adapter reads pictures from a {plan.adapter} camera here"
        return Outcome(
            plan.camera_id, done([Finding.NO_PICTURE], code="not_checkable", message=message)
        )
    try:
        adapter = adapters.create(name)
    except (UnknownAdapter, AdapterLoadError) as exc:
        return Outcome(
            plan.camera_id, done([Finding.NO_PICTURE], code="adapter_unavailable", message=str(exc))
        )
    target = plan.target
    try:
        if plan.depth is CheckDepth.REACHABILITY or not isinstance(adapter, FrameSource):
            await asyncio.wait_for(adapter.probe(target), timeout=frames.timeout_s)
            return Outcome(plan.camera_id, done([]))
        window = await _window(adapter, target, frames)
    except AdapterError as exc:
        finding = finding_for_error(exc.code)
        return Outcome(
            plan.camera_id, done([finding], code=exc.code, message=target.redact(exc.message))
        )
    except TimeoutError:
        message = f"the check took longer than {frames.timeout_s:g} s"
        return Outcome(plan.camera_id, done([Finding.UNREACHABLE], code="timeout", message=message))
    except Exception as exc:  # a broken adapter fails its check, not the sweep
        log.error("adapter %s raised %s in a health check", name, type(exc).__name__)
        return Outcome(
            plan.camera_id,
            done([Finding.NO_PICTURE], code="adapter_error", message="the adapter failed"),
        )
    return _judge(plan, window, done)


async def _window(adapter: FrameSource, target: Target, frames: FramePlan) -> list[GrayFrame]:
    count = frames.warmup + frames.window
    got = await asyncio.wait_for(
        adapter.frames(target, count, timeout=frames.timeout_s), timeout=frames.timeout_s + 1
    )
    return got[frames.warmup :] or got[-1:]


def _judge(plan: Plan, window: list[GrayFrame], done: _Done) -> Outcome:
    baseline = plan.baseline
    verdict = tamper.assess(
        window,
        baseline_sharpness=baseline.sharpness if baseline else None,
        reference=baseline.signature if baseline else None,
    )
    findings = [Finding(name) for name in verdict.fired]
    measures = Measures(
        mean_luminance=verdict.mean_luminance,
        luminance_std=verdict.luminance_std,
        sharpness=verdict.sharpness,
        sharpness_ratio=verdict.sharpness_ratio,
        scene_similarity=verdict.scene_similarity,
        frame_change=verdict.frame_change,
    )
    learned = None
    if should_learn_baseline(findings, baseline is not None):
        sharpness = float(np.median([tamper.sharpness(frame) for frame in window]))
        if sharpness > 0:
            signature = tamper.scene_signature(window[0]).astype(np.float32)
            learned = Baseline(sharpness, signature)
    return Outcome(plan.camera_id, done(findings, measures=measures), learned)
