"""An ONVIF camera probed again: the first probe replaces stream_uri with the RTSP stream, and
the device service URL, kept in device_uri, is where the second probe still goes. Run through
`run_probe` with the installed adapters against a real ONVIF device (ipycam on loopback)."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.registry import AdapterRegistry
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.probe import ProbeJob, ProbeState, create_job
from hub.registry.secrets import CredentialBox
from hub.registry.tasks import ProbeContext, run_probe
from schemas.camera import CameraCreate
from tests.fixtures.onvif_servers import Ipycam, ipycam_camera

USERNAME = "operator"
PASSWORD = "Re-Pr0be:s3cret@x"


@pytest.fixture(scope="module")
def ipycam() -> Iterator[Ipycam]:
    with ipycam_camera(USERNAME, PASSWORD) as running:
        yield running


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits release savepoints of the test's transaction (rolled back)."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def ctx(sessions: sessionmaker[Session], box: CredentialBox) -> ProbeContext:
    return ProbeContext(
        sessions=sessions, box=box, adapters=AdapterRegistry.installed(), timeout_s=10
    )


def _register(
    session: Session, box: CredentialBox, owner: Organization, **addresses: Any
) -> Camera:
    data = CameraCreate.model_validate(
        {
            "location": {"type": "Point", "coordinates": [126.91, 37.55]},
            "adapter": "onvif",
            "credentials": {"username": USERNAME, "password": PASSWORD},
            **addresses,
        }
    )
    camera = create_camera(session, box, data, owner.id)
    session.commit()
    return camera


def _probe(session: Session, camera: Camera, ctx: ProbeContext) -> tuple[ProbeJob, Camera]:
    job = create_job(session, camera)
    session.commit()
    assert run_probe(job.id, ctx) is not None
    session.expire_all()
    done, fresh = session.get(ProbeJob, job.id), session.get(Camera, camera.id)
    assert done is not None and fresh is not None
    return done, fresh


@pytest.fixture
def owner(make_org: Callable[..., Organization]) -> Organization:
    return make_org("mapo-gu")


def test_a_second_probe_still_reaches_the_device_service(
    session: Session, box: CredentialBox, owner: Organization, ctx: ProbeContext, ipycam: Ipycam
) -> None:
    camera = _register(session, box, owner, stream_uri=ipycam.device_url)
    # Registered with the device service as its stream: the URL is kept as device_uri too.
    assert camera.device_uri == ipycam.device_url

    first, after_first = _probe(session, camera, ctx)
    assert first.state is ProbeState.SUCCEEDED, first.error_message
    assert after_first.stream_uri == f"rtsp://127.0.0.1:{ipycam.rtsp_port}/video_main"
    assert after_first.device_uri == ipycam.device_url

    second, after_second = _probe(session, after_first, ctx)
    assert second.state is ProbeState.SUCCEEDED, (second.error_code, second.error_message)
    assert second.attempts == 1 and second.result is not None
    assert second.result["model"] == ipycam.model
    assert after_second.device_uri == ipycam.device_url
    assert after_second.stream_uri == after_first.stream_uri


def test_a_camera_given_device_uri_and_its_rtsp_stream_is_probed_at_the_device(
    session: Session, box: CredentialBox, owner: Organization, ctx: ProbeContext, ipycam: Ipycam
) -> None:
    # Before device_uri, an rtsp stream_uri sent ONVIF to port 80 of the stream's host.
    stream = f"rtsp://127.0.0.1:{ipycam.rtsp_port}/video_main"
    camera = _register(session, box, owner, stream_uri=stream, device_uri=ipycam.device_url)
    job, probed = _probe(session, camera, ctx)
    assert job.state is ProbeState.SUCCEEDED, (job.error_code, job.error_message)
    assert (probed.device_uri, probed.stream_uri) == (ipycam.device_url, stream)


def test_a_camera_registered_before_device_uri_keeps_it_on_its_next_probe(
    session: Session, box: CredentialBox, owner: Organization, ctx: ProbeContext, ipycam: Ipycam
) -> None:
    camera = _register(session, box, owner, stream_uri=ipycam.device_url)
    # As rows written before migration 0006 were (that migration fills it where it can).
    session.execute(update(Camera).where(Camera.id == camera.id).values(device_uri=None))
    session.commit()
    first, after_first = _probe(session, camera, ctx)
    assert first.state is ProbeState.SUCCEEDED, first.error_message
    assert after_first.device_uri == ipycam.device_url
    second, _ = _probe(session, after_first, ctx)
    assert second.state is ProbeState.SUCCEEDED, (second.error_code, second.error_message)
