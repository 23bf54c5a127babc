"""Which cameras the event intake subscribes to, and where: ONVIF cameras with credentials, at
their device service, and private cameras only with consent to be watched."""

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from hub.enrolment.models import Enrolment
from hub.events.intake import load_feeds
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enrolment import ConsentTier, EnrolmentState

DEVICE = "http://127.0.0.1:8080/onvif/device_service"
STREAM = "rtsp://127.0.0.1:8554/main"
CREDENTIALS = {"username": "admin", "password": "feeds-secret"}


@pytest.fixture
def camera(
    session: Session, box: CredentialBox, make_org: Callable[..., Organization]
) -> Callable[..., Camera]:
    owner = make_org()

    def make(**fields: object) -> Camera:
        data = {
            "location": {"type": "Point", "coordinates": [127.05, 37.5]},
            "adapter": "onvif",
            "credentials": CREDENTIALS,
            **fields,
        }
        made = create_camera(session, box, CameraCreate.model_validate(data), owner.id)
        session.flush()
        return made

    return make


def test_the_device_service_is_preferred_to_the_stream(
    session: Session, camera: Callable[..., Camera]
) -> None:
    probed = camera(device_uri=DEVICE, stream_uri=STREAM)
    legacy = camera(stream_uri=STREAM)
    feeds = load_feeds(session)
    assert feeds[probed.id].address == DEVICE
    assert feeds[legacy.id].address == STREAM


def test_cameras_without_credentials_or_onvif_are_not_subscribed(
    session: Session, camera: Callable[..., Camera]
) -> None:
    anonymous = camera(device_uri=DEVICE, credentials=None)
    rtsp = camera(adapter="rtsp", stream_uri=STREAM)
    retired = camera(device_uri=DEVICE, status="decommissioned")
    assert not {anonymous.id, rtsp.id, retired.id} & set(load_feeds(session))


@pytest.mark.parametrize(
    ("tier", "state", "subscribed"),
    [
        (ConsentTier.LIVE_ALWAYS, EnrolmentState.APPROVED, True),
        (ConsentTier.ON_REQUEST, EnrolmentState.APPROVED, True),
        (ConsentTier.REGISTRY_ONLY, EnrolmentState.APPROVED, False),
        (ConsentTier.LIVE_ALWAYS, EnrolmentState.SUBMITTED, False),
        (ConsentTier.LIVE_ALWAYS, EnrolmentState.WITHDRAWN, False),
    ],
)
def test_private_cameras_are_subscribed_only_with_consent(
    session: Session,
    camera: Callable[..., Camera],
    tier: ConsentTier,
    state: EnrolmentState,
    subscribed: bool,
) -> None:
    private = camera(device_uri=DEVICE)
    session.add(
        Enrolment(camera_id=private.id, org_id=private.owner_id, state=state, consent_tier=tier)
    )
    session.flush()
    assert (private.id in load_feeds(session)) is subscribed
