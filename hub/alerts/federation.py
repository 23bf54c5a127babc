"""Alerts across nodes.

An alert raised here goes (org.c4hub.alert.v1) to the node that issued the entry it matched and
to the peers whose jurisdiction contains the read; the agreements (scope `alerts`, area) decide
in the end, in federation.outbox.emit. A state change (acknowledged, closed) goes back
(org.c4hub.alert.state.v1): for an alert raised here, to every peer that received it; for a
peer's alert, to that peer, which passes it on to the others that received it. States only
move forward (open < acknowledged < closed), so a late or repeated change is harmless.
"""

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from federation import outbox
from federation.inbox import InboxPeer, Refused
from federation.models import Delivery, NodeIdentity, OutboxEvent, Peer
from hub.alerts.models import Alert
from hub.hotlists.models import HotlistEntry
from hub.registry.convert import point_of
from schemas.federation import (
    AlertData,
    AlertStateData,
    AlertStateName,
    CloudEvent,
    EventType,
    PeerState,
)
from schemas.geo import Point
from schemas.hotlists import AlertKind, AlertState

SUBJECT = "alert:"

RANK = {AlertState.OPEN: 0, AlertState.ACKNOWLEDGED: 1, AlertState.CLOSED: 2}


def local_node_id(session: Session) -> uuid.UUID | None:
    """None before `c4hub init`: a node without identity has no peers to tell."""
    return session.scalar(select(NodeIdentity.node_id))


def alert_data(row: Alert, camera_id: uuid.UUID, position: Point, node_id: uuid.UUID) -> AlertData:
    # An entry issued here is named by this node's id and the entry's id here.
    entry_node = row.entry_origin_node or (node_id if row.entry_id is not None else None)
    entry_id = row.entry_origin_id if row.entry_origin_node is not None else row.entry_id
    return AlertData(
        alert_id=row.id,
        state=AlertStateName(row.state.value),
        priority=row.priority,
        plate=row.plate,
        read_id=row.read_id,
        read_at=row.read_at,
        position=position,
        camera_id=camera_id,
        camera_name=row.camera_name,
        evidence_url=row.evidence,
        entry_plate=row.entry_plate,
        category=row.category,
        reason=row.reason,
        entry_origin_node=entry_node,
        entry_origin_id=entry_id,
        raised_at=row.created_at,
    )


def _addressees(session: Session, row: Alert, wkt: str) -> set[uuid.UUID]:
    """The entry's issuer and the active peers whose jurisdiction contains the read."""
    point = func.ST_GeomFromText(wkt, 4326)
    covering = select(Peer.id).where(
        Peer.state == PeerState.ACTIVE,
        Peer.jurisdiction.is_not(None),
        func.ST_Covers(Peer.jurisdiction, point),
    )
    peers = set(session.scalars(covering))
    if row.entry_origin_node is not None:
        issuer = session.scalar(select(Peer.id).where(Peer.node_id == row.entry_origin_node))
        if issuer is not None:
            peers.add(issuer)
    return peers


def publish_alert(session: Session, row: Alert) -> list[uuid.UUID]:
    """Emit an alert raised here to its addressees that an agreement allows; the peers."""
    node_id = local_node_id(session)
    if node_id is None or row.camera_id is None or row.position is None:
        return []  # no identity yet (no peers), or not raised here
    position = point_of(row.position)
    wkt = outbox.point_wkt((position.lon, position.lat))
    to_peers = _addressees(session, row, wkt)
    if not to_peers:
        return []
    return outbox.emit(
        session,
        EventType.ALERT,
        alert_data(row, row.camera_id, position, node_id),
        subject=f"{SUBJECT}{row.id}",
        position=(position.lon, position.lat),
        to_peers=to_peers,
    )


def _receivers(session: Session, alert_id: uuid.UUID) -> list[uuid.UUID]:
    """The peers this node sent the alert to (its outbox deliveries, whatever their state)."""
    stmt = (
        select(Delivery.peer_id)
        .join(OutboxEvent, OutboxEvent.id == Delivery.outbox_id)
        .where(OutboxEvent.subject == f"{SUBJECT}{alert_id}")
        .where(OutboxEvent.type == EventType.ALERT.value)
        .distinct()
    )
    return list(session.scalars(stmt))


def publish_state(
    session: Session,
    row: Alert,
    changed_at: datetime,
    by_node: uuid.UUID | None = None,
    skip: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Tell the nodes concerned that the alert's state changed (see the module docstring);
    `skip` is the peer the change came from. The peers it goes to."""
    node_id = local_node_id(session)
    if node_id is None:
        return []
    if row.origin_node_id is None:
        origin, alert_id = node_id, row.id
        peers = set(_receivers(session, row.id))
    else:
        assert row.origin_alert_id is not None
        origin, alert_id = row.origin_node_id, row.origin_alert_id
        peers = set(session.scalars(select(Peer.id).where(Peer.node_id == row.origin_node_id)))
    if skip is not None:
        peers.discard(skip)
    if not peers:
        return []
    data = AlertStateData(
        origin_node=origin,
        alert_id=alert_id,
        state=AlertStateName(row.state.value),
        changed_at=changed_at,
        by_node=by_node or node_id,
    )
    return outbox.emit(
        session, EventType.ALERT_STATE, data, subject=f"{SUBJECT}{row.id}", to_peers=peers
    )


# --- inbox handlers --------------------------------------------------------------------------


def _local_entry(session: Session, data: AlertData, node_id: uuid.UUID | None) -> uuid.UUID | None:
    """Our row for the entry the alert matched: ours, or our copy of a peer's."""
    if data.entry_origin_id is None or data.entry_origin_node is None:
        return None
    if data.entry_origin_node == node_id:
        stmt = select(HotlistEntry.id).where(
            HotlistEntry.id == data.entry_origin_id, HotlistEntry.origin_node_id.is_(None)
        )
    else:
        stmt = select(HotlistEntry.id).where(
            HotlistEntry.origin_node_id == data.entry_origin_node,
            HotlistEntry.origin_entry_id == data.entry_origin_id,
        )
    return session.scalar(stmt)


def on_alert(session: Session, peer: InboxPeer, event: CloudEvent, data: BaseModel) -> None:
    """A peer raised an alert: keep it here with its origin (once: a resend changes nothing;
    its state changes come as ALERT_STATE)."""
    assert isinstance(data, AlertData)
    node_id = local_node_id(session)
    entry_origin = None if data.entry_origin_node == node_id else data.entry_origin_node
    lon, lat = data.position.lon, data.position.lat
    stmt = insert(Alert).values(
        id=uuid.uuid4(),
        kind=AlertKind.HOTLIST_MATCH,
        state=AlertState(data.state.value),
        priority=max(1, min(5, data.priority)),
        camera_id=None,
        camera_name=(data.camera_name or "")[:200] or None,
        position=f"SRID=4326;{outbox.point_wkt((lon, lat))}",
        origin_node_id=peer.node_id,
        origin_alert_id=data.alert_id,
        entry_origin_node=entry_origin,
        entry_origin_id=data.entry_origin_id if entry_origin is not None else None,
        read_id=data.read_id,
        read_at=data.read_at,
        plate=data.plate[:16],
        evidence=(data.evidence_url or "")[:500] or None,
        entry_id=_local_entry(session, data, node_id),
        entry_plate=data.entry_plate[:16],
        category=data.category,
        reason=data.reason[:500],
        acknowledged_at=event.time if data.state is not AlertStateName.OPEN else None,
        closed_at=event.time if data.state is AlertStateName.CLOSED else None,
    )
    session.execute(
        stmt.on_conflict_do_nothing(
            index_elements=["origin_node_id", "origin_alert_id"],
            index_where=Alert.origin_node_id.is_not(None),
        )
    )


def _target(session: Session, peer: InboxPeer, data: AlertStateData) -> Alert | None:
    """The alert a state change names, if this peer may change it: the node that raised it,
    or (for an alert raised here) a peer we sent it to."""
    if data.origin_node == local_node_id(session):
        row = session.get(Alert, data.alert_id, with_for_update=True)
        if row is None or row.origin_node_id is not None:
            return None
        if peer.peer_id not in _receivers(session, row.id):
            raise Refused("this node was not sent that alert")
        return row
    if data.origin_node != peer.node_id:
        raise Refused("only the node that raised an alert tells us its state")
    stmt = select(Alert).where(
        Alert.origin_node_id == data.origin_node, Alert.origin_alert_id == data.alert_id
    )
    return session.scalars(stmt.with_for_update()).one_or_none()


def advance(row: Alert, state: AlertState, at: datetime) -> bool:
    """Move the alert forward to `state` (never back); whether it changed."""
    if RANK[state] <= RANK[row.state]:
        return False
    row.state = state
    row.acknowledged_at = row.acknowledged_at or at
    if state is AlertState.CLOSED:
        row.closed_at = at
    return True


def on_alert_state(session: Session, peer: InboxPeer, event: CloudEvent, data: BaseModel) -> None:
    """A peer acknowledged or closed an alert: apply it when it moves the alert forward; an
    alert raised here passes the change on to the other peers that received it."""
    assert isinstance(data, AlertStateData)
    row = _target(session, peer, data)
    if row is None:
        return  # an alert we never held (e.g. outside our agreement's area): nothing to do
    if advance(row, AlertState(data.state.value), data.changed_at):
        session.flush()
        if row.origin_node_id is None:
            publish_state(session, row, data.changed_at, by_node=data.by_node, skip=peer.peer_id)
