"""Federation contracts: node documents, peers, agreements, CloudEvents and federated queries.

What crosses between nodes is a CloudEvent 1.0 (JSON) whose `data` is one of the `*Data` models
below, chosen by `type`; the JSON Schema of each is served at /federation/v1/schemas. Scopes say
what may flow under an agreement; nothing outside an active agreement leaves a node.
"""

from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import UtcTimestamp
from schemas.geo import AreaGeometry, MultiPolygon, Point
from schemas.hotlists import Category, ListKind, Note, Priority, Tolerance
from schemas.scalars import NO_NUL_PATTERN

FEDERATION_VERSION: Literal["1"] = "1"
NODE_URN_PREFIX = "urn:c4hub:node:"
CLOUDEVENTS_BATCH = "application/cloudevents-batch+json"


def node_source(node_id: UUID) -> str:
    """The CloudEvents `source` of everything a node emits."""
    return f"{NODE_URN_PREFIX}{node_id}"


class Scope(StrEnum):
    ALERTS = "alerts"
    PLATE_READS = "plate_reads"
    DETECTIONS = "detections"
    CAMERA_REGISTRY = "camera_registry"
    CAMERA_HEALTH = "camera_health"
    HOTLISTS = "hotlists"
    LIVE_VIEW_ON_REQUEST = "live_view_on_request"


class EventType(StrEnum):
    """CloudEvents types; the scope that must allow each is in EVENT_SCOPE."""

    PLATE_READ = "org.c4hub.plate.read.v1"
    DETECTION = "org.c4hub.detection.v1"
    ALERT = "org.c4hub.alert.v1"
    ALERT_STATE = "org.c4hub.alert.state.v1"
    CAMERA_HEALTH = "org.c4hub.camera.health.v1"
    HOTLIST_ENTRY = "org.c4hub.hotlist.entry.v1"
    HOTLIST_ENTRY_REVOKED = "org.c4hub.hotlist.entry.revoked.v1"
    # Control: an agreement's terms and state, always allowed between the two peers it binds.
    AGREEMENT = "org.c4hub.agreement.v1"


EVENT_SCOPE: dict[EventType, Scope | None] = {
    EventType.PLATE_READ: Scope.PLATE_READS,
    EventType.DETECTION: Scope.DETECTIONS,
    EventType.ALERT: Scope.ALERTS,
    EventType.ALERT_STATE: Scope.ALERTS,
    EventType.CAMERA_HEALTH: Scope.CAMERA_HEALTH,
    EventType.HOTLIST_ENTRY: Scope.HOTLISTS,
    EventType.HOTLIST_ENTRY_REVOKED: Scope.HOTLISTS,
    EventType.AGREEMENT: None,
}

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
HttpUrl = Annotated[
    str,
    Field(
        max_length=500,
        pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\x00-\x20\x7f]*)?$",
        examples=["https://c4.saltillo.example/"],
    ),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- identity ------------------------------------------------------------------------------


class KeyStatus(StrEnum):
    CURRENT = "current"  # signs now
    NEXT = "next"  # signs after the next rotation; peers trust it already
    PREVIOUS = "previous"  # signed before the last rotation; accepted until valid_until


class PublishedKey(_Frozen):
    key_id: str = Field(description="base64url of the first 16 bytes of sha-256(raw key)")
    algorithm: Literal["ed25519"] = "ed25519"
    public_key: str = Field(description="base64url (no padding) of the 32-byte raw key")
    status: KeyStatus
    valid_from: UtcTimestamp
    valid_until: UtcTimestamp | None = None


class NodeDocument(_Frozen):
    """What /.well-known/c4hub publishes: who the node is and the keys it signs with."""

    federation_version: Literal["1"] = "1"
    node_id: UUID
    name: Name
    api_base: HttpUrl = Field(description="Base URL peers call, e.g. https://c4.example/")
    jurisdiction: MultiPolygon | None = None
    keys: list[PublishedKey] = Field(min_length=1)
    updated_at: UtcTimestamp


# --- peers and agreements ------------------------------------------------------------------


class PeerState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class PeerCreate(_Frozen):
    url: HttpUrl = Field(description="The peer's base URL; /.well-known/c4hub is read from it")
    fingerprint: str = Field(
        min_length=64,
        max_length=100,
        pattern=r"^[0-9A-Fa-f ]+$",
        description="sha-256 of the peer's current public key, hex (spaces allowed), "
        "received out of band",
    )


class PeerOut(_Frozen):
    id: UUID
    node_id: UUID
    name: str
    api_base: str
    jurisdiction: MultiPolygon | None
    state: PeerState
    fingerprint: str
    key_ids: list[str]
    created_at: UtcTimestamp
    refreshed_at: UtcTimestamp | None
    circuit_open_until: UtcTimestamp | None


class PeerStateChange(_Frozen):
    state: PeerState
    reason: Note


class AgreementState(StrEnum):
    PROPOSED = "proposed"  # one side accepted; waits for the other
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


class AgreementTerms(_Frozen):
    """What flows each way, seen from the node that holds the record."""

    scopes_out: list[Scope] = Field(description="What this node sends the peer")
    scopes_in: list[Scope] = Field(description="What the peer sends this node")
    area: AreaGeometry | None = Field(
        default=None, description="Only events located inside it flow; null: anywhere"
    )
    purpose: Note
    legal_basis: Note
    expires_at: UtcTimestamp


class AgreementCreate(AgreementTerms):
    peer_id: UUID


class AgreementOut(AgreementTerms):
    id: UUID
    peer_id: UUID
    peer_node_id: UUID
    proposed_by: Literal["local", "peer"]
    state: AgreementState
    local_accepted_at: UtcTimestamp | None
    peer_accepted_at: UtcTimestamp | None
    suspended_by: Literal["local", "peer"] | None
    created_at: UtcTimestamp
    updated_at: UtcTimestamp


class AgreementAction(_Frozen):
    reason: Note | None = None


# --- CloudEvents ----------------------------------------------------------------------------


class CloudEvent(_Frozen):
    """A CloudEvent 1.0 in JSON format (structured mode), as exchanged in batches."""

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=100)
    source: str = Field(min_length=1, max_length=200, description="urn:c4hub:node:<node id>")
    type: EventType
    time: UtcTimestamp
    subject: str | None = Field(default=None, max_length=200)
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = Field(default=None, max_length=500)
    data: dict[str, Any]


class InboxResult(_Frozen):
    """The receiver's answer to a batch: what it applied, what it already had, what it refused."""

    applied: list[str]
    duplicates: list[str]
    refused: dict[str, str] = Field(description="event id -> reason")


class PlateReadData(_Frozen):
    read_id: UUID
    plate: str
    read_at: UtcTimestamp
    confidence: float
    camera_id: UUID
    camera_name: str | None
    position: Point
    vehicle_class: str | None = None
    colour: str | None = None
    direction: str | None = None


class HotlistEntryData(_Frozen):
    """A hotlist entry as its issuing node publishes it; `entry_id` is the issuer's id."""

    entry_id: UUID
    plate: str
    kind: ListKind
    category: Category
    reason: str
    legal_basis: str
    priority: Priority
    valid_from: UtcTimestamp
    valid_until: UtcTimestamp | None
    source: str
    tolerance: Tolerance
    issuing_agency: str


class HotlistEntryRevokedData(_Frozen):
    entry_id: UUID
    revoked_at: UtcTimestamp


class AlertStateName(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class AlertData(_Frozen):
    """An alert raised at the node that read the plate; `alert_id` is that node's id."""

    alert_id: UUID
    state: AlertStateName
    priority: int
    plate: str
    read_id: UUID
    read_at: UtcTimestamp
    position: Point
    camera_id: UUID
    camera_name: str | None
    evidence_url: str | None
    entry_plate: str
    category: Category
    reason: str
    entry_origin_node: UUID | None = Field(description="Node that issued the entry")
    entry_origin_id: UUID | None = Field(description="The entry's id at the issuing node")
    raised_at: UtcTimestamp


class AlertStateData(_Frozen):
    """An alert's state changed: `origin_node` and `alert_id` name it where it was raised."""

    origin_node: UUID
    alert_id: UUID
    state: AlertStateName
    changed_at: UtcTimestamp
    by_node: UUID
    note: str | None = None


class DetectionData(_Frozen):
    """An event a camera or the analytics reported (zone, line, missing object, crowding,
    vehicle, tamper...), without the camera's raw message."""

    event_id: UUID
    camera_id: UUID
    camera_name: str | None
    kind: str
    occurred_at: UtcTimestamp
    active: bool | None
    position: Point
    subject: dict[str, Any]
    data: dict[str, Any]


class CameraHealthData(_Frozen):
    camera_id: UUID
    status: str
    previous: str | None
    position: Point
    changed_at: UtcTimestamp


class AgreementData(AgreementTerms):
    """An agreement as the sending node holds it (so scopes_out are what the sender sends)."""

    agreement_id: UUID
    state: AgreementState
    sender_accepted: bool
    suspended_by_sender: bool
    revoked: bool


EVENT_DATA: dict[EventType, type[BaseModel]] = {
    EventType.PLATE_READ: PlateReadData,
    EventType.ALERT: AlertData,
    EventType.ALERT_STATE: AlertStateData,
    EventType.CAMERA_HEALTH: CameraHealthData,
    EventType.DETECTION: DetectionData,
    EventType.HOTLIST_ENTRY: HotlistEntryData,
    EventType.HOTLIST_ENTRY_REVOKED: HotlistEntryRevokedData,
    EventType.AGREEMENT: AgreementData,
}


# --- federated queries ----------------------------------------------------------------------


class QueryKind(StrEnum):
    PLATE_SIGHTINGS = "plate_sightings"  # needs scope plate_reads
    CAMERAS_NEAR = "cameras_near"  # needs scope camera_registry


QUERY_SCOPE: dict[QueryKind, Scope] = {
    QueryKind.PLATE_SIGHTINGS: Scope.PLATE_READS,
    QueryKind.CAMERAS_NEAR: Scope.CAMERA_REGISTRY,
}


class QueryParams(_Frozen):
    kind: QueryKind
    plate: str | None = Field(default=None, min_length=2, max_length=16, pattern=r"^[A-Z0-9]+$")
    start: UtcTimestamp | None = Field(default=None, alias="from")
    end: UtcTimestamp | None = Field(default=None, alias="to")
    point: Point | None = None
    radius_m: float | None = Field(default=None, gt=0, le=50_000)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class QueryJustification(_Frozen):
    purpose: Note
    case_number: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")


class FederatedQueryRequest(QueryJustification):
    query: QueryParams
    deadline_s: float = Field(default=5.0, gt=0, le=60)


class PeerAnswerStatus(StrEnum):
    OK = "ok"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    ERROR = "error"


class PeerAnswer(_Frozen):
    node_id: UUID
    name: str
    status: PeerAnswerStatus
    count: int
    detail: str | None = None
    elapsed_ms: float


class FederatedQueryResult(_Frozen):
    """Merged results: each item carries `node_id` and `node_name` of the node that has it."""

    query_id: UUID
    items: list[dict[str, Any]]
    peers: list[PeerAnswer]


# --- federated queries: what crosses between nodes, and the audit log (helper FD) -----------


class PeerQuery(QueryJustification):
    """A query as the asking node sends it to a peer's POST /federation/v1/queries."""

    query_id: UUID
    query: QueryParams
    deadline_s: float = Field(default=5.0, gt=0, le=60)


class PlateSighting(PlateReadData):
    """One read of the plate asked for, at a camera on the answering node's map."""


class NearbyCamera(_Frozen):
    """A camera on the answering node's map near the point asked for; never its addresses."""

    camera_id: UUID
    name: str | None
    purpose: str
    status: str
    position: Point
    distance_m: float
    heading_deg: float | None = None
    fov_deg: float | None = None
    range_m: float | None = None
    ptz: bool = False


class PeerQueryAnswer(_Frozen):
    """A peer's answer: the items it may share, inside the agreement's area."""

    query_id: UUID
    items: list[dict[str, Any]]


class AuditRole(StrEnum):
    ASKED = "asked"
    ANSWERED = "answered"


class AuditEntryOut(_Frozen):
    id: int
    at: UtcTimestamp
    role: AuditRole
    query_id: UUID
    kind: str
    params: dict[str, Any]
    purpose: str
    case_number: str
    actor: str
    peer_node_id: UUID | None
    status: str
    result_count: int
    elapsed_ms: float | None


class AuditPage(_Frozen):
    items: list[AuditEntryOut]
    next_cursor: str | None = None


# --- node identity, peers and refused requests: what operators see (helper FA) --------------


class NodeOut(NodeDocument):
    """This node's published document and its current key's fingerprint, to give to peers
    out of band (`c4hub peer add URL --fingerprint …` on their side)."""

    fingerprint: str


class PingReply(_Frozen):
    """The answer to a signed POST /federation/v1/ping: who the caller was recognised as."""

    node_id: UUID = Field(description="The answering node")
    caller_node_id: UUID
    caller_name: str
    at: UtcTimestamp


class RejectionOut(_Frozen):
    """A federation request this node refused, and why."""

    id: int
    at: UtcTimestamp
    status: int
    code: str
    key_id: str | None
    peer_id: UUID | None
    method: str
    url: str
    remote: str | None
    detail: str


# --- delivery (the operators' dead-letter view) -----------------------------------------------


class DeliveryStateName(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # retries spent or refused by the peer
    WITHHELD = "withheld"  # the agreement no longer allowed it: never sent


class DeliveryOut(_Frozen):
    """One event's delivery to one peer."""

    outbox_id: UUID = Field(description="The CloudEvent id")
    peer_id: UUID
    peer_name: str
    type: str
    subject: str | None
    time: UtcTimestamp
    state: DeliveryStateName
    attempts: int
    last_error: str | None
    next_attempt_at: UtcTimestamp
    delivered_at: UtcTimestamp | None
    created_at: UtcTimestamp


class DeliveryPage(_Frozen):
    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")


class DeliveryRetry(_Frozen):
    """Dead deliveries to send again: those of one peer, or the ones named, or all."""

    peer_id: UUID | None = None
    outbox_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=10_000)


class DeliveryRetryResult(_Frozen):
    moved: int = Field(description="Dead deliveries moved back to pending")
    peers: list[UUID]
