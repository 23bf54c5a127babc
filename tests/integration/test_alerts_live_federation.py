"""Two live nodes on loopback, each with its own database: a regional centre that issues a
hotlist and a municipality that reads plates. Agreed both ways, the region's entry reaches the
municipality (backfilled when the agreement becomes active); a read posted at the municipality
raises an alert there and at the region; the region closes it and the municipality learns of
it; the region revokes the entry and the municipality drops it. Everything over signed HTTP."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from federation import agreements
from federation.delivery import DeliveryReport, deliver_peer
from federation.models import Agreement, Peer
from federation.tasks import context_from
from hub.alerts.models import Alert
from hub.auth.service import create_token
from hub.hotlists import service as hotlists
from hub.hotlists.models import HotlistEntry
from hub.registry import organizations
from hub.registry.cameras import create_camera
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enums import OrganizationKind, Role
from schemas.federation import AgreementCreate, Scope
from schemas.hotlists import HotlistEntryCreate
from schemas.organization import OrganizationCreate
from tests.integration.federation_nodes import Node, peer, running_node

SALTILLO = [[[-101.1, 25.3], [-100.8, 25.3], [-100.8, 25.6], [-101.1, 25.6], [-101.1, 25.3]]]


@dataclass
class Pair:
    region: Node
    town: Node
    region_token: str
    town_token: str
    camera_id: uuid.UUID
    entry_id: uuid.UUID


def _send(here: Node, there: Node) -> DeliveryReport:
    """Deliver what `here` has due for `there` (as the federation worker does)."""
    ctx = context_from(here.settings)
    try:
        return deliver_peer(ctx, here.peer_row(there).id)
    finally:
        ctx.sessions.kw["bind"].dispose()


def _token(node: Node) -> str:
    with node.session() as session:
        return create_token(session, Role.OPERATOR, None)


def _setup(region: Node, town: Node) -> Pair:
    peer(region, town)
    with region.session() as session:
        body = {"plate": "FRS4821", "category": "stolen", "reason": "robo con violencia",
                "legal_basis": "CNPP art. 251", "priority": 1, "source": "nacional",
                "tolerance": "confusable"}  # fmt: skip
        entry_id = hotlists.create_entry(session, HotlistEntryCreate.model_validate(body)).id
    with town.session() as session:
        org = organizations.create_organization(
            session, OrganizationCreate(slug="c4", name="C4", kind=OrganizationKind.MUNICIPALITY)
        )
        place = {"type": "Point", "coordinates": [-101.0, 25.42]}
        data = CameraCreate.model_validate({"name": "Blvd. Carranza", "location": place})
        assert town.settings.secret_key is not None
        box = CredentialBox(town.settings.secret_key)
        camera_id = create_camera(session, box, data, org.id).id
        terms = AgreementCreate(
            peer_id=town.peer_row(region).id,
            scopes_out=[Scope.ALERTS],
            # alerts both ways: the region's acknowledgements and closures come back
            scopes_in=[Scope.HOTLISTS, Scope.ALERTS],
            area={"type": "Polygon", "coordinates": SALTILLO},
            purpose="vehículos robados",
            legal_basis="convenio 2026/17",
            expires_at=datetime.now(UTC) + timedelta(days=30),
        )
        agreement_id = agreements.propose(session, terms, datetime.now(UTC)).id
    assert _send(town, region).delivered == 1
    with region.session() as session:
        agreements.accept(session, agreement_id, datetime.now(UTC))  # backfills the entry
    assert _send(region, town).delivered == 2  # the acceptance, then the entry
    return Pair(region, town, _token(region), _token(town), camera_id, entry_id)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root: Path = tmp_path_factory.mktemp("nodes")
    with (
        running_node("C4 Región Sureste", root / "region") as region,
        running_node("C4 Saltillo", root / "town") as town,
    ):
        yield _setup(region, town)


def test_the_regions_entry_is_held_by_the_town(pair: Pair) -> None:
    with pair.town.session() as session:
        held = session.scalars(select(HotlistEntry)).one()
        assert (held.origin_node_id, held.origin_entry_id) == (pair.region.node_id, pair.entry_id)
        assert held.issuing_agency == "C4 Región Sureste"
        agreement = session.scalars(select(Agreement)).one()
        assert agreement.peer_accepted_at is not None


def test_a_read_at_the_town_raises_alerts_there_and_at_the_region_and_closing_federates(
    pair: Pair,
) -> None:
    read = {"id": str(uuid.uuid4()), "camera_id": str(pair.camera_id),
            "read_at": datetime.now(UTC).isoformat(), "plate": "FR54821",  # OCR: S read as 5
            "confidence": 0.88}  # fmt: skip
    headers = {"Authorization": f"Bearer {pair.town_token}"}
    posted = httpx.post(pair.town.url + "/api/v1/plates/reads", json=read, headers=headers)
    assert posted.status_code == 201, posted.text
    [town_alert] = posted.json()["alert_ids"]
    assert _send(pair.town, pair.region).delivered == 1
    assert _send(pair.town, pair.region).delivered == 0  # once

    with pair.region.session() as session:
        alert = session.scalars(select(Alert)).one()
        assert (str(alert.origin_alert_id), alert.origin_node_id) == (town_alert, pair.town.node_id)
        assert (alert.entry_id, alert.plate, alert.camera_name) == (
            pair.entry_id,
            "FR54821",
            "Blvd. Carranza",
        )
        region_alert = alert.id
    region_headers = {"Authorization": f"Bearer {pair.region_token}"}
    closed = httpx.post(
        f"{pair.region.url}/api/v1/alerts/{region_alert}/close", headers=region_headers
    )
    assert closed.json()["state"] == "closed"
    assert _send(pair.region, pair.town).delivered == 1
    town_view = httpx.get(f"{pair.town.url}/api/v1/alerts/{town_alert}", headers=headers)
    assert town_view.json()["state"] == "closed"


def test_revoking_at_the_region_removes_the_entry_at_the_town(pair: Pair) -> None:
    headers = {"Authorization": f"Bearer {pair.region_token}"}
    url = f"{pair.region.url}/api/v1/hotlists/entries/{pair.entry_id}"
    assert httpx.delete(url, headers=headers).status_code == 204
    assert _send(pair.region, pair.town).delivered == 1
    with pair.town.session() as session:
        assert session.scalars(select(HotlistEntry)).all() == []
        assert session.scalars(select(Peer)).one().name == "C4 Región Sureste"
