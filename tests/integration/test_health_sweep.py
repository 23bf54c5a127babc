"""The health sweep on the real database against real RTSP streams (GStreamer on loopback):
each tampered stream is flagged with its own finding, the clean one with none, a dead camera
goes offline and comes back, and confirmed changes are kept as history."""

import socket
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kombu import Connection as AmqpConnection  # type: ignore[attr-defined]  # not re-exported
from kombu import Queue  # type: ignore[attr-defined]
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.registry import AdapterRegistry
from hub.enrolment.models import Enrolment
from hub.events.publisher import events_exchange
from hub.health.announce import HealthAnnouncer
from hub.health.checks import FramePlan
from hub.health.models import CameraHealth, HealthEvent
from hub.health.rules import Grace
from hub.health.tasks import HealthContext, run_checks, run_sweep
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from hub.settings import get_settings
from schemas.camera import CameraCreate
from schemas.enrolment import ConsentTier, EnrolmentState
from schemas.enums import CameraStatus
from schemas.health import CheckResult, Finding, HealthChange
from tests.fixtures.onvif_servers import agsh_camera
from tests.fixtures.rtsp_server import PASSWORD, USERNAME, rtsp_base_url, rtsp_private_url

__all__ = ["rtsp_base_url", "rtsp_private_url"]  # fixtures, used by name below

NOW = datetime.now(UTC)
IMMEDIATE = Grace(checks=1, seconds=0)


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits release savepoints of the test's transaction (rolled back)."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def make_camera(
    session: Session, box: CredentialBox, make_org: Callable[..., Organization]
) -> Callable[..., Camera]:
    owner = make_org()

    def make(uri: str, lon: float = 127.05, **extra: object) -> Camera:
        camera = create_camera(
            session,
            box,
            CameraCreate.model_validate(
                {
                    "location": {"type": "Point", "coordinates": [lon, 37.5]},
                    "adapter": "rtsp",
                    "stream_uri": uri,
                    **extra,
                }
            ),
            owner.id,
        )
        session.commit()
        return camera

    return make


class Clock:
    """The sweep's time, moved on by the test rather than by waiting."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _ctx(
    sessions: sessionmaker[Session], box: CredentialBox, grace: Grace, clock: Clock | None = None
) -> HealthContext:
    return HealthContext(
        sessions=sessions,
        box=box,
        adapters=AdapterRegistry.installed(),
        grace=grace,
        frames=FramePlan(warmup=12, window=13, timeout_s=20),
        batch=10,
        clock=clock or Clock(),
    )


def _sweep(ctx: HealthContext, at: datetime) -> list[uuid.UUID]:
    if isinstance(ctx.clock, Clock):
        ctx.clock.now = at
    checked: list[uuid.UUID] = []
    for batch in run_sweep(ctx):
        run_checks(batch, ctx)
        checked += batch
    return checked


def _health(session: Session, camera: Camera) -> tuple[CameraStatus, CheckResult, CameraHealth]:
    session.expire_all()
    health = session.get(CameraHealth, camera.id)
    fresh = session.get(Camera, camera.id)
    assert health is not None and fresh is not None and health.last_check is not None
    return fresh.status, CheckResult.model_validate(health.last_check), health


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_each_tampered_stream_is_flagged_and_the_clean_one_is_not(
    rtsp_base_url: str,
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    make_camera: Callable[..., Camera],
) -> None:
    mounts = {
        "clean": (CameraStatus.ONLINE, []),
        "black": (CameraStatus.TAMPERED, [Finding.DARK]),
        "blurred": (CameraStatus.TAMPERED, [Finding.DEFOCUSED]),
        "shifted": (CameraStatus.TAMPERED, [Finding.SCENE_CHANGED]),
        "frozen": (CameraStatus.DEGRADED, [Finding.FROZEN]),
    }
    # Installed right: every camera first shows the clean view and learns its baseline.
    cameras = {
        m: make_camera(f"{rtsp_base_url}/clean", 127.05 + i * 1e-4) for i, m in enumerate(mounts)
    }
    ctx = _ctx(sessions, box, IMMEDIATE)
    assert sorted(_sweep(ctx, NOW)) == sorted(c.id for c in cameras.values())
    for camera in cameras.values():
        status, result, health = _health(session, camera)
        assert (status, result.findings) == (CameraStatus.ONLINE, []), result
        assert health.baseline_sharpness is not None and health.reference_signature is not None
    # Then each but one is tampered with.
    for mount, camera in cameras.items():
        session.get_one(Camera, camera.id).stream_uri = f"{rtsp_base_url}/{mount}"
    session.commit()
    assert _sweep(ctx, NOW) == []  # nothing due yet: the interval has not passed
    assert len(_sweep(ctx, NOW + timedelta(seconds=61))) == len(mounts)
    for mount, (expected_status, expected_findings) in mounts.items():
        status, result, _ = _health(session, cameras[mount])
        assert (status, result.findings) == (expected_status, expected_findings), (mount, result)
        assert result.depth == "decode" and result.measures is not None
    changes = session.scalars(select(HealthEvent).order_by(HealthEvent.occurred_at)).all()
    tampered = {c.camera_id: c for c in changes if c.previous is CameraStatus.ONLINE}
    assert set(tampered) == {cameras[m].id for m in mounts if m != "clean"}
    assert tampered[cameras["black"].id].findings == ["dark"]


def test_a_dead_camera_goes_offline_after_the_grace_period_and_comes_back(
    rtsp_base_url: str,
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    make_camera: Callable[..., Camera],
) -> None:
    camera = make_camera(f"{rtsp_base_url}/clean")
    ctx = _ctx(sessions, box, Grace(checks=2, seconds=60))
    _sweep(ctx, NOW)
    assert _health(session, camera)[0] is CameraStatus.ONLINE
    session.get_one(Camera, camera.id).stream_uri = f"rtsp://127.0.0.1:{_closed_port()}/clean"
    session.commit()

    _sweep(ctx, NOW + timedelta(seconds=61))
    status, result, health = _health(session, camera)
    assert status is CameraStatus.ONLINE  # one failed check: still within grace
    assert result.error_code == "connection_refused" and result.findings == [Finding.UNREACHABLE]
    assert health.candidate is CameraStatus.OFFLINE and health.candidate_checks == 1

    _sweep(ctx, NOW + timedelta(seconds=122))
    assert _health(session, camera)[0] is CameraStatus.OFFLINE

    session.get_one(Camera, camera.id).stream_uri = f"{rtsp_base_url}/clean"  # back up
    session.commit()
    _sweep(ctx, NOW + timedelta(seconds=183))
    _sweep(ctx, NOW + timedelta(seconds=244))
    status, result, _ = _health(session, camera)
    assert status is CameraStatus.ONLINE and result.findings == []
    history = session.execute(
        select(HealthEvent.previous, HealthEvent.status)
        .where(HealthEvent.camera_id == camera.id)
        .order_by(HealthEvent.occurred_at)
    ).all()
    assert [tuple(change) for change in history] == [
        (CameraStatus.UNKNOWN, CameraStatus.ONLINE),
        (CameraStatus.ONLINE, CameraStatus.OFFLINE),
        (CameraStatus.OFFLINE, CameraStatus.ONLINE),
    ]


def test_faults_end_in_clear_codes_without_credentials(
    rtsp_private_url: str,
    rtsp_base_url: str,
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    make_camera: Callable[..., Camera],
) -> None:
    wrong = make_camera(
        f"{rtsp_private_url}/clean",
        credentials={"username": USERNAME, "password": "wrong-" + PASSWORD},
    )
    right = make_camera(
        f"{rtsp_private_url}/clean",
        127.0501,
        credentials={"username": USERNAME, "password": PASSWORD},
    )
    missing = make_camera(f"{rtsp_base_url}/no-such-mount", 127.0502)
    _sweep(_ctx(sessions, box, IMMEDIATE), NOW)
    status, result, _ = _health(session, wrong)
    assert (status, result.error_code) == (CameraStatus.DEGRADED, "authentication_failed")
    assert result.message is not None and PASSWORD not in result.message
    assert _health(session, right)[0] is CameraStatus.ONLINE
    status, result, _ = _health(session, missing)
    assert (status, result.error_code) == (CameraStatus.DEGRADED, "stream_not_found")


def test_retired_cameras_and_cameras_without_a_stream_are_not_swept(
    rtsp_base_url: str,
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    make_camera: Callable[..., Camera],
) -> None:
    retired = make_camera(f"{rtsp_base_url}/clean", status="decommissioned")
    inventory = make_camera(None, 127.0501, adapter="none")
    live = make_camera(f"{rtsp_base_url}/clean", 127.0502)
    assert run_sweep(_ctx(sessions, box, IMMEDIATE), NOW) == [[live.id]]
    assert session.get(CameraHealth, retired.id) is None
    assert session.get(CameraHealth, inventory.id) is None


@pytest.mark.parametrize(
    ("tier", "state", "expected_depth"),
    [
        (ConsentTier.LIVE_ALWAYS, EnrolmentState.APPROVED, "decode"),
        (ConsentTier.LIVE_ON_ALARM, EnrolmentState.APPROVED, "reachability"),
        (ConsentTier.ON_REQUEST, EnrolmentState.APPROVED, "reachability"),
        (ConsentTier.REGISTRY_ONLY, EnrolmentState.APPROVED, None),
        (ConsentTier.LIVE_ALWAYS, EnrolmentState.SUBMITTED, None),
        (ConsentTier.LIVE_ALWAYS, EnrolmentState.WITHDRAWN, None),
    ],
)
def test_the_sweep_never_looks_further_than_consent_allows(
    rtsp_base_url: str,
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    make_camera: Callable[..., Camera],
    tier: ConsentTier,
    state: EnrolmentState,
    expected_depth: str | None,
) -> None:
    camera = make_camera(f"{rtsp_base_url}/clean")
    session.add(
        Enrolment(camera_id=camera.id, org_id=camera.owner_id, state=state, consent_tier=tier)
    )
    session.commit()
    checked = _sweep(_ctx(sessions, box, IMMEDIATE), NOW)
    if expected_depth is None:
        assert checked == [] and session.get(CameraHealth, camera.id) is None
        return
    status, result, health = _health(session, camera)
    assert checked == [camera.id] and status is CameraStatus.ONLINE
    assert result.depth == expected_depth
    # A reachability check sees no pictures: no measures, and no baseline learned from them.
    assert (result.measures is not None) == (expected_depth == "decode")
    assert (health.baseline_sharpness is not None) == (expected_depth == "decode")


def test_confirmed_changes_are_announced_on_the_events_exchange(
    rtsp_base_url: str,
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    make_camera: Callable[..., Camera],
) -> None:
    camera = make_camera(f"rtsp://127.0.0.1:{_closed_port()}/clean")
    with AmqpConnection(get_settings().broker_url) as conn:  # type: ignore[no-untyped-call]
        tap: Any = Queue(  # type: ignore[no-untyped-call]
            f"test.health-tap.{uuid.uuid4().hex[:8]}",
            exchange=events_exchange(),
            routing_key=f"camera.{camera.id}.health",
            exclusive=True,
        )(conn.default_channel)
        tap.declare()
        ctx = replace(
            _ctx(sessions, box, IMMEDIATE), on_changes=HealthAnnouncer(get_settings().broker_url)
        )
        _sweep(ctx, NOW)
        message = tap.get(no_ack=True)
    assert message is not None
    change = HealthChange.model_validate_json(message.body)
    assert (change.camera_id, change.previous, change.status) == (
        camera.id,
        CameraStatus.UNKNOWN,
        CameraStatus.OFFLINE,
    )
    assert change.findings == [Finding.UNREACHABLE]
    assert message.properties["message_id"] == str(change.id)


def test_a_broker_outage_loses_the_announcement_but_not_the_history(
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    make_camera: Callable[..., Camera],
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera = make_camera(f"rtsp://127.0.0.1:{_closed_port()}/clean")
    dead_broker = f"amqp://guest:guest@127.0.0.1:{_closed_port()}//"
    ctx = replace(_ctx(sessions, box, IMMEDIATE), on_changes=HealthAnnouncer(dead_broker, 2))
    _sweep(ctx, NOW)
    assert _health(session, camera)[0] is CameraStatus.OFFLINE
    assert session.scalars(select(HealthEvent).where(HealthEvent.camera_id == camera.id)).one()
    assert "could not announce 1 health change(s)" in caplog.text


def test_an_onvif_camera_not_yet_probed_is_checked_at_its_device_service(
    sessions: sessionmaker[Session],
    session: Session,
    box: CredentialBox,
    make_camera: Callable[..., Camera],
) -> None:
    with agsh_camera() as device:
        camera = make_camera(
            device.device_url, adapter="onvif", credentials={"username": "a", "password": "b"}
        )
        _sweep(_ctx(sessions, box, IMMEDIATE), NOW)
        status, result, _ = _health(session, camera)
        assert status is CameraStatus.ONLINE and result.findings == []
        assert result.measures is None  # a device answering is all it shows: no pictures
        assert "GetDeviceInformation" in [operation for operation, _ in device.requests]
    _sweep(_ctx(sessions, box, IMMEDIATE), NOW + timedelta(seconds=61))
    status, result, _ = _health(session, camera)
    assert status is CameraStatus.OFFLINE and result.error_code == "connection_refused"
