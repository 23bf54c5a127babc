"""Every table of the node, imported once so metadata is complete (Alembic, tests)."""

from federation.models import (
    Agreement,
    AuditEntry,
    Delivery,
    InboxEvent,
    NodeIdentity,
    NodeKey,
    Nonce,
    OutboxEvent,
    Peer,
    PeerKey,
    Rejection,
)
from hub.alerts.models import Alert
from hub.analytics.models import AnalyticsState, CameraAnalytics
from hub.auth.models import ApiToken
from hub.coverage.models import (
    CoverageCache,
    CoverageGap,
    DemandPoint,
    Obstacle,
    PlanningPlan,
    PlanningProposal,
)
from hub.db import Base
from hub.enrolment.models import Enrolment
from hub.events.models import CameraEventRow
from hub.health.models import CameraHealth, HealthEvent
from hub.hotlists.models import HotlistEntry
from hub.plates.models import PlateReadRow
from hub.registry.models import Camera, Organization
from hub.registry.probe import ProbeJob

__all__ = [
    "Agreement",
    "Alert",
    "AnalyticsState",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Camera",
    "CameraAnalytics",
    "CameraEventRow",
    "CameraHealth",
    "CoverageCache",
    "CoverageGap",
    "Delivery",
    "DemandPoint",
    "Enrolment",
    "HealthEvent",
    "HotlistEntry",
    "InboxEvent",
    "NodeIdentity",
    "NodeKey",
    "Nonce",
    "Obstacle",
    "Organization",
    "OutboxEvent",
    "Peer",
    "PeerKey",
    "PlanningPlan",
    "PlanningProposal",
    "PlateReadRow",
    "ProbeJob",
    "Rejection",
]
