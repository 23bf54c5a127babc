"""Every table of the node, imported once so metadata is complete (Alembic, tests)."""

from hub.auth.models import ApiToken
from hub.db import Base
from hub.enrolment.models import Enrolment
from hub.events.models import CameraEventRow
from hub.health.models import CameraHealth, HealthEvent
from hub.registry.models import Camera, Organization
from hub.registry.probe import ProbeJob

__all__ = [
    "ApiToken",
    "Base",
    "Camera",
    "CameraEventRow",
    "CameraHealth",
    "Enrolment",
    "HealthEvent",
    "Organization",
    "ProbeJob",
]
